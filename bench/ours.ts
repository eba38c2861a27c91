/** One run of the engine (`deployProject`, as the action and the CLI run it) with its timings. */
import type { ProjectSpec } from '../src/engine/config/spec.js';
import { deployProject } from '../src/engine/deploy/deploy.js';
import type { KubeClient } from '../src/engine/kube/index.js';
import { nullLogger } from '../src/engine/logger.js';
import type { CodeBundle } from '../src/engine/plan/index.js';
import { planProject } from '../src/engine/plan/index.js';
import type { Observer } from './observer.js';
import { stageSample, type RunSample } from './sample.js';

export async function runOurs(client: KubeClient, observer: Observer, spec: ProjectSpec, codeBundle: CodeBundle, namespace: string, runId: string): Promise<RunSample> {
  const plan = planProject(spec, { namespace, runId, codeBundle });
  client.resetRequestCounts();
  const t0 = Date.now();
  const result = await deployProject({ client, logger: nullLogger, spec, plan, runId });
  const end = Date.now();
  if (result.status !== 'success') {
    throw new Error(`ours failed in ${namespace}: ${result.reason ?? result.stages.map((s) => `${s.stage}: ${s.status} ${s.reason ?? ''}`).join('; ')}`);
  }
  const requests = client.requestCounts();
  // A stage's start and end as the engine reported them: the runner's start, and its start plus its duration.
  const stages = await Promise.all(
    plan.steps.flatMap((step) =>
      step.stages.map((stage) => {
        const r = result.stages.find((s) => s.stage === stage.stage)!;
        const start = Date.parse(r.startedAt!);
        return stageSample(observer, namespace, stage, step.index, start, start + r.durationMs!);
      }),
    ),
  );
  return {
    deployer: 'ours',
    wallMs: end - t0,
    setupMs: Math.min(...stages.map((s) => s.stepStart)) - t0,
    tailMs: end - Math.max(...stages.map((s) => s.done)),
    stages,
    requests,
  };
}
