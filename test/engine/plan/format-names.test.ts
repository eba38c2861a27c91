/**
 * Object names and `stage` labels per project format, as each Bodywork version gave them (bodywork-behaviour.md §2.2):
 * INI (Bodywork 1) and YAML "1.0" (Bodywork 2) name objects `<project>--<stage>` and label a Deployment and its pods
 * with the bare stage name; YAML "1.1" (Bodywork 3) uses the stage name alone everywhere.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/engine/config/load.js';
import { planProject, type DeployPlan } from '../../../src/engine/plan/index.js';
import { removeProject, writeProject } from '../deploy/helpers.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map(removeProject)));

function yaml(version: '1.0' | '1.1', stages: string[] = ['stage_1_train', 'stage_2_serve']): Record<string, string> {
  const lines = [`version: "${version}"`, version === '1.0' ? 'project:' : 'pipeline:', '  name: iris-project', '  docker_image: bodyworkml/bodywork-core:latest', `  DAG: ${stages.join(' >> ')}`, 'stages:'];
  for (const stage of stages) {
    lines.push(`  ${stage}:`, '    executable_module_path: main.py', '    cpu_request: 0.1', '    memory_request_mb: 50');
    if (stage.includes('serve')) lines.push('    service:', '      max_startup_time_seconds: 30', '      replicas: 1', '      port: 5000', '      ingress: true');
    else lines.push('    batch:', '      max_completion_time_seconds: 30', '      retries: 1');
  }
  lines.push('logging:', '  log_level: INFO', '');
  return { 'bodywork.yaml': lines.join('\n'), 'main.py': 'print("hi")\n' };
}

function ini(): Record<string, string> {
  const common = 'EXECUTABLE_SCRIPT=main.py\nCPU_REQUEST=0.1\nMEMORY_REQUEST_MB=50\n';
  return {
    'bodywork.ini': '[default]\nPROJECT_NAME=iris-project\nDOCKER_IMAGE=bodyworkml/bodywork-core:latest\n\n[workflow]\nDAG=stage_1_train >> stage_2_serve\n\n[logging]\nLOG_LEVEL=INFO\n',
    'stage_1_train/config.ini': `[default]\nSTAGE_TYPE=batch\n${common}\n[batch]\nMAX_COMPLETION_TIME_SECONDS=30\nRETRIES=1\n`,
    'stage_1_train/main.py': 'print("hi")\n',
    'stage_1_train/requirements.txt': '',
    'stage_2_serve/config.ini': `[default]\nSTAGE_TYPE=service\n${common}\n[service]\nMAX_STARTUP_TIME_SECONDS=30\nREPLICAS=1\nPORT=5000\nINGRESS=True\n`,
    'stage_2_serve/main.py': 'print("hi")\n',
    'stage_2_serve/requirements.txt': '',
  };
}

async function plan(files: Record<string, string>, runId = 'r1'): Promise<DeployPlan> {
  const dir = await writeProject(files);
  dirs.push(dir);
  const { spec, problems } = await loadProject(dir);
  if (spec === undefined) throw new Error(problems.map((p) => p.message).join('; '));
  return planProject(spec, { runId });
}

/** One row per stage object: kind, name, `stage` label, and the selector (Deployment, Service) or backend (Ingress). */
function names(p: DeployPlan): string[] {
  return p.steps.flatMap((step) =>
    step.stages.flatMap((stage) =>
      stage.objects.map((o) => {
        const spec = (o as { spec?: { selector?: Record<string, string> & { matchLabels?: Record<string, string> }; rules?: { http?: { paths?: { backend: { service?: { name: string } } }[] } }[] } }).spec;
        const selector = spec?.selector?.matchLabels ?? spec?.selector;
        const backend = spec?.rules?.[0]?.http?.paths?.[0]?.backend.service?.name;
        const selects = selector ? [`selects ${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',')}`] : [];
        return [o.kind, o.metadata?.name, `stage=${o.metadata?.labels?.stage}`, ...selects, ...(backend ? [`-> ${backend}`] : [])].join(' ');
      }),
    ),
  );
}

describe('object names and stage labels per format', () => {
  it('INI (Bodywork 1): <project>--<stage>; the Deployment and its pods labelled with the stage name', async () => {
    expect(names(await plan(ini()))).toEqual([
      'Job iris-project--stage-1-train-r1 stage=iris-project--stage-1-train',
      'Deployment iris-project--stage-2-serve stage=stage_2_serve selects stage=stage_2_serve',
      'Service iris-project--stage-2-serve stage=iris-project--stage-2-serve selects stage=stage_2_serve,app.kubernetes.io/part-of=iris-project',
      'Ingress iris-project--stage-2-serve stage=iris-project--stage-2-serve -> iris-project--stage-2-serve',
    ]);
  });

  it('YAML "1.0" (Bodywork 2): <project>--<stage>, as INI, so a stage calling http://<project>--<stage>:5000 finds it', async () => {
    const p = await plan(yaml('1.0'));
    expect(names(p)).toEqual([
      'Job iris-project--stage-1-train-r1 stage=iris-project--stage-1-train',
      'Deployment iris-project--stage-2-serve stage=stage_2_serve selects stage=stage_2_serve',
      'Service iris-project--stage-2-serve stage=iris-project--stage-2-serve selects stage=stage_2_serve,app.kubernetes.io/part-of=iris-project',
      'Ingress iris-project--stage-2-serve stage=iris-project--stage-2-serve -> iris-project--stage-2-serve',
    ]);
    const serve = p.steps[1].stages[0];
    expect(serve.type === 'service' && serve.url).toBe('http://iris-project--stage-2-serve.iris-project.svc.cluster.local:5000');
  });

  it('YAML "1.1" (Bodywork 3): the stage name alone, everywhere', async () => {
    expect(names(await plan(yaml('1.1')))).toEqual([
      'Job stage-1-train-r1 stage=stage-1-train',
      'Deployment stage-2-serve stage=stage-2-serve selects stage=stage-2-serve',
      'Service stage-2-serve stage=stage-2-serve selects stage=stage-2-serve',
      'Ingress stage-2-serve stage=stage-2-serve -> stage-2-serve',
    ]);
  });

  it('names Jobs without the run suffix when no run id is given', async () => {
    const p = planProject((await loadProject(dirs[0])).spec!, {});
    expect(p.steps[0].stages[0].objects[0].metadata?.name).toBe('iris-project--stage-1-train');
  });
});

describe('stage names validated as they are planned', () => {
  it('accepts stages "a--b" and "a-b", which the plan keeps apart', async () => {
    const p = await plan(yaml('1.1', ['a--b', 'a-b']));
    expect(p.steps.map((s) => s.stages[0].baseName)).toEqual(['a--b', 'a-b']);
  });

  it('reports stages whose planned names clash, with the name the format gives them', async () => {
    const dir = await writeProject(yaml('1.0', ['stage_1', 'stage-1']));
    dirs.push(dir);
    const { spec, problems } = await loadProject(dir);
    expect(spec).toBeUndefined();
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([
      'bodywork.yaml:14: stages "stage_1" and "stage-1" would both become the Kubernetes name "iris-project--stage-1"; rename one of them',
    ]);
  });
});

describe('the ingress class option', () => {
  it('sets spec.ingressClassName, and refuses a name the API would refuse before anything is applied', async () => {
    const spec = (await loadProject(dirs[0])).spec!;
    const serve = planProject(spec, { ingressClass: 'nginx-internal' }).steps[1].stages[0];
    expect(serve.type === 'service' && serve.ingress?.spec?.ingressClassName).toBe('nginx-internal');
    expect(() => planProject(spec, { ingressClass: 'Nginx Internal' })).toThrow("ingress class 'Nginx Internal' is not a valid IngressClass name");
  });
});
