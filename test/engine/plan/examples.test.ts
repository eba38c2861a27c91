import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/engine/config/load.js';
import type { ProjectSpec } from '../../../src/engine/config/spec.js';
import { bundleProject, planObjects, planProject } from '../../../src/engine/plan/index.js';
import { renderPlanYaml } from '../../../src/engine/plan/render.js';
import { apiServerProblems } from './k8s-validate.js';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
const options = { commitSha: '951d01c6f0a1e2b3c4d5e6f708192a3b4c5d6e7f', runId: '1234567890' };

async function load(name: string): Promise<ProjectSpec> {
  const { spec, problems } = await loadProject(`${examples}${name}`);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  if (spec === undefined) throw new Error(`examples/${name} does not load`);
  return spec;
}

describe('the plans of the example projects', () => {
  it('plans the tutorial pipeline loaded from examples/iris-pipeline as the tutorial describes', async () => {
    const plan = planProject(await load('iris-pipeline'), options);
    const [train, serve] = plan.steps.map((s) => s.stages[0]);
    expect(plan.namespace).toBe('bodywork-ml-pipeline-project');
    expect(train?.baseName).toBe('bodywork-ml-pipeline-project--stage-1-train-model');
    expect(train?.type === 'batch' && train.job.metadata?.name).toBe('bodywork-ml-pipeline-project--stage-1-train-model-1234567890');
    expect(train?.type === 'batch' && train.job.spec?.backoffLimit).toBe(2);
    expect(train?.type === 'batch' && train.job.spec?.template.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '500m', memory: '100M' });
    expect(serve?.type === 'service' && serve.deployment.spec?.replicas).toBe(2);
    expect(serve?.type === 'service' && serve.service.spec?.ports?.[0]?.port).toBe(5000);
  });

  // Without the code bundle, so editing an example's Python does not change its plan snapshot.
  it.each(['iris-pipeline', 'yaml-pipeline'])('renders the same plan for examples/%s as recorded', async (name) => {
    expect(renderPlanYaml(planProject(await load(name), options))).toMatchSnapshot();
  });

  it.each(['iris-pipeline', 'yaml-pipeline'])('plans only valid objects for examples/%s with its code bundle', async (name) => {
    const spec = await load(name);
    const plan = planProject(spec, { ...options, codeBundle: await bundleProject(spec) });
    for (const object of [...planObjects(plan), ...(plan.onFailure?.objects ?? [])]) {
      expect(apiServerProblems(object), `${object.kind}/${object.metadata?.name}`).toEqual([]);
    }
  });
});
