import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { ProjectSpec } from '../../../src/engine/config/spec.js';
import {
  PlanError,
  planObjects,
  planProject,
  NOTEBOOK_RUNNER,
  SCRIPT_RUNNER,
  shellQuote,
  type CodeBundle,
  type PlannedBatchStage,
  type PlannedServiceStage,
} from '../../../src/engine/plan/index.js';
import { renderPlanYaml } from '../../../src/engine/plan/render.js';
import { apiServerProblems } from './k8s-validate.js';
import { irisPipelineSpec, yamlTestProjectSpec } from './specs.js';

const SHA = '951d01c6f0a1e2b3c4d5e6f708192a3b4c5d6e7f';

function batchStage(plan: ReturnType<typeof planProject>, stage: string): PlannedBatchStage {
  const found = plan.steps.flatMap((s) => s.stages).find((s) => s.stage === stage);
  if (found?.type !== 'batch') throw new Error(`no batch stage ${stage}`);
  return found;
}

function serviceStage(plan: ReturnType<typeof planProject>, stage: string): PlannedServiceStage {
  const found = plan.steps.flatMap((s) => s.stages).find((s) => s.stage === stage);
  if (found?.type !== 'service') throw new Error(`no service stage ${stage}`);
  return found;
}

const fakeBundle: CodeBundle = {
  hash: 'ab'.repeat(32),
  files: ['bodywork.ini'],
  entries: [{ path: 'bodywork.ini', bytes: 10, sha256: 'cd'.repeat(32) }],
  totalBytes: 10,
  configMaps: [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bodywork-ml-pipeline-project-code-abababab', labels: {} }, immutable: true, data: { 'bodywork.ini': '[default]\n' } },
  ],
  volume: {
    name: 'bodywork-project',
    projected: { sources: [{ configMap: { name: 'bodywork-ml-pipeline-project-code-abababab', items: [{ key: 'bodywork.ini', path: 'bodywork.ini' }] } }] },
  },
};

describe('planProject on the tutorial pipeline', () => {
  const plan = planProject(irisPipelineSpec(), { namespace: 'ml-pipeline', commitSha: SHA, runId: '42', codeBundle: fakeBundle });

  it('plans the training stage as a Job named like Bodywork 1 did, retried twice, with the tutorial requests', () => {
    const { job, baseName } = batchStage(plan, 'stage-1-train-model');
    expect(baseName).toBe('bodywork-ml-pipeline-project--stage-1-train-model');
    // With a run id the plan names the Job as the run creates it.
    expect(job.metadata?.name).toBe('bodywork-ml-pipeline-project--stage-1-train-model-42');
    expect(job.metadata?.labels?.stage).toBe('bodywork-ml-pipeline-project--stage-1-train-model');
    expect(job.metadata?.namespace).toBe('ml-pipeline');
    expect(job.spec?.backoffLimit).toBe(2);
    const pod = job.spec?.template.spec;
    expect(pod?.restartPolicy).toBe('Never');
    expect(pod?.containers[0]?.resources?.requests).toEqual({ cpu: '500m', memory: '100M' });
    expect(pod?.serviceAccountName).toBe('bodywork-stage');
  });

  it("bounds each attempt's script in the command, with the pod's deadline only a backstop past the set-up", () => {
    const { job, scriptLimit } = batchStage(plan, 'stage-1-train-model');
    expect(scriptLimit).toEqual({ seconds: 30, setting: 'MAX_COMPLETION_TIME_SECONDS', deadlineSeconds: 660 });
    expect(job.spec?.template.spec?.containers[0]?.command?.[2]).toContain(`exec python -c ${shellQuote(SCRIPT_RUNNER)} 30 MAX_COMPLETION_TIME_SECONDS train_model.py train_model.py`);
    // max(60, 30) + 600: the image pull, the copy and pip install are not the script's time.
    expect(job.spec?.template.spec?.activeDeadlineSeconds).toBe(660);
    expect(job.spec?.activeDeadlineSeconds).toBeUndefined();
  });

  it('sets no script limit and no pod deadline for a limit of 0, as Bodywork 3', () => {
    const spec = irisPipelineSpec();
    const train = spec.stages['stage-1-train-model']!;
    const unbounded = planProject({ ...spec, stages: { ...spec.stages, [train.name]: { ...train, batch: { maxCompletionTimeSeconds: 0, retries: 2 } } } });
    const { job, scriptLimit } = batchStage(unbounded, train.name);
    expect(scriptLimit).toBeUndefined();
    expect(job.spec?.template.spec?.activeDeadlineSeconds).toBeUndefined();
    expect(job.spec?.template.spec?.containers[0]?.command?.[2]).toMatch(/\nexec python train_model\.py$/);
  });

  it('plans the scoring service as a Deployment of 2 replicas on port 5000 behind a Service on port 5000', () => {
    const { deployment, service, url } = serviceStage(plan, 'stage-2-deploy-scoring-service');
    const name = 'bodywork-ml-pipeline-project--stage-2-deploy-scoring-service';
    expect(deployment.metadata?.name).toBe(name);
    expect(deployment.spec?.replicas).toBe(2);
    const main = deployment.spec?.template.spec?.containers[0];
    expect(main?.ports).toEqual([{ name: 'http', containerPort: 5000, protocol: 'TCP' }]);
    expect(main?.resources?.requests).toEqual({ cpu: '250m', memory: '100M' });
    expect(service.metadata?.name).toBe(name);
    expect(service.spec?.type).toBe('ClusterIP');
    expect(service.spec?.ports).toEqual([{ protocol: 'TCP', port: 5000, targetPort: 5000 }]);
    expect(url).toBe(`http://${name}.ml-pipeline.svc.cluster.local:5000`);
  });

  it('enforces MAX_STARTUP_TIME_SECONDS by the wait, as Bodywork 1: no probe that counts the install kills a slow starter', () => {
    const { deployment, startup } = serviceStage(plan, 'stage-2-deploy-scoring-service');
    const main = deployment.spec?.template.spec?.containers[0];
    expect(main?.startupProbe).toBeUndefined();
    expect(main?.livenessProbe).toBeUndefined();
    // Fast readiness all the same: a 1 s TCP probe.
    expect(main?.readinessProbe).toEqual({ tcpSocket: { port: 5000 }, periodSeconds: 1, failureThreshold: 3 });
    expect(startup).toEqual({ check: 'wait', seconds: 30, graceSeconds: 90, setting: 'MAX_STARTUP_TIME_SECONDS' });
    expect(deployment.spec?.progressDeadlineSeconds).toBe(30 + 90 + 60);
    expect(deployment.spec?.minReadySeconds).toBeUndefined();
  });

  it('rolls services out without ever dropping below the desired ready replicas', () => {
    const { deployment } = serviceStage(plan, 'stage-2-deploy-scoring-service');
    expect(deployment.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } });
  });

  it('selects service pods on the stable stage label only, never on the commit or run', () => {
    const { deployment, service } = serviceStage(plan, 'stage-2-deploy-scoring-service');
    // Bodywork 1 labelled (and selected) a Deployment's pods with the bare stage name; the Service also matches the
    // project, as another project in the namespace may have a stage of that name.
    const selector = { stage: 'stage-2-deploy-scoring-service' };
    expect(deployment.spec?.selector).toEqual({ matchLabels: selector });
    expect(service.spec?.selector).toEqual({ ...selector, 'app.kubernetes.io/part-of': 'bodywork-ml-pipeline-project' });
    const other = planProject(irisPipelineSpec(), { namespace: 'ml-pipeline', commitSha: 'f'.repeat(40), runId: '43' });
    expect(serviceStage(other, 'stage-2-deploy-scoring-service').deployment.spec?.selector).toEqual(deployment.spec?.selector);
  });

  it('annotates the pod template with the run id, so every run rolls the pods', () => {
    const { deployment } = serviceStage(plan, 'stage-2-deploy-scoring-service');
    expect(deployment.spec?.template.metadata?.annotations).toEqual({ 'bodywork.dev/git-commit': SHA, 'bodywork.dev/run-id': '42' });
    const next = planProject(irisPipelineSpec(), { namespace: 'ml-pipeline', commitSha: SHA, runId: '43' });
    expect(serviceStage(next, 'stage-2-deploy-scoring-service').deployment.spec?.template.metadata?.annotations?.['bodywork.dev/run-id']).toBe('43');
  });

  it('routes the ingress at /<namespace>/<service> with the nginx rewrite Bodywork used', () => {
    const { ingress, ingressPath } = serviceStage(plan, 'stage-2-deploy-scoring-service');
    const name = 'bodywork-ml-pipeline-project--stage-2-deploy-scoring-service';
    expect(ingressPath).toBe(`/ml-pipeline/${name}`);
    expect(ingress?.metadata?.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/rewrite-target': '/$2', 'nginx.ingress.kubernetes.io/use-regex': 'true' });
    expect(ingress?.spec?.rules?.[0]?.http?.paths).toEqual([
      { path: `/ml-pipeline/${name}(/|$)(.*)`, pathType: 'ImplementationSpecific', backend: { service: { name, port: { number: 5000 } } } },
    ]);
    expect(ingress?.spec?.ingressClassName).toBeUndefined();
    const withClass = planProject(irisPipelineSpec(), { ingressClass: 'nginx' });
    expect(serviceStage(withClass, 'stage-2-deploy-scoring-service').ingress?.spec?.ingressClassName).toBe('nginx');
  });

  it('sets the stage environment: stage name, short commit, project root on PYTHONPATH', () => {
    const env = batchStage(plan, 'stage-1-train-model').job.spec?.template.spec?.containers[0]?.env;
    expect(env).toEqual([
      { name: 'BODYWORK_STAGE', value: 'stage-1-train-model' },
      { name: 'GIT_COMMIT_HASH', value: '951d01c' },
      { name: 'PYTHONPATH', value: '/bodywork/project' },
      { name: 'PYTHONUNBUFFERED', value: '1' },
    ]);
  });

  it('installs the requirements file, then runs the script from its directory', () => {
    const container = batchStage(plan, 'stage-1-train-model').job.spec?.template.spec?.containers[0];
    expect(container?.image).toBe('bodyworkml/bodywork-core:latest');
    expect(container?.command).toEqual([
      '/bin/sh',
      '-c',
      [
        'set -e',
        'rm -rf /bodywork/project/* /bodywork/project/.[!.]* /bodywork/project/..?*',
        'src=/bodywork/code',
        'if [ -d "$src/..data" ]; then src="$src/..data"; fi',
        'cp -RP "$src/." /bodywork/project/',
        'python -m pip install --no-cache-dir --disable-pip-version-check -r /bodywork/project/stage-1-train-model/requirements.txt',
        'cd /bodywork/project/stage-1-train-model',
        `exec python -c ${shellQuote(SCRIPT_RUNNER)} 30 MAX_COMPLETION_TIME_SECONDS train_model.py train_model.py`,
      ].join('\n'),
    ]);
  });

  it('mounts the code bundle read-only, and runs the stage in a writable copy of it in an emptyDir', () => {
    for (const pod of [batchStage(plan, 'stage-1-train-model').job.spec?.template.spec, serviceStage(plan, 'stage-2-deploy-scoring-service').deployment.spec?.template.spec]) {
      expect(pod?.volumes).toEqual([fakeBundle.volume, { name: 'bodywork-working-copy', emptyDir: {} }]);
      expect(pod?.containers[0]?.volumeMounts).toEqual([
        { name: 'bodywork-project', mountPath: '/bodywork/code', readOnly: true },
        { name: 'bodywork-working-copy', mountPath: '/bodywork/project' },
      ]);
      expect(pod?.containers[0]?.command?.[2]).toContain('\ncp -RP "$src/." /bodywork/project/\n');
    }
    expect(plan.setup.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'Namespace/ml-pipeline',
      'ServiceAccount/bodywork-stage',
      'Role/bodywork-stage',
      'RoleBinding/bodywork-stage',
      'ConfigMap/bodywork-ml-pipeline-project-code-abababab',
    ]);
    expect(plan.setup[4]?.metadata?.namespace).toBe('ml-pipeline');
  });

  it('limits the stage Role to reading secrets and config maps', () => {
    const role = plan.setup.find((o) => o.kind === 'Role') as { rules: unknown };
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list'] }]);
  });

  it('plans only objects a real API server accepts', () => {
    for (const object of planObjects(plan)) expect(apiServerProblems(object), `${object.kind}/${object.metadata?.name}`).toEqual([]);
  });

  it('orders the steps as the DAG does', () => {
    expect(plan.steps.map((s) => [s.index, s.stages.map((st) => st.stage)])).toEqual([
      [1, ['stage-1-train-model']],
      [2, ['stage-2-deploy-scoring-service']],
    ]);
  });
});

describe('planProject on a YAML project', () => {
  const spec = yamlTestProjectSpec();
  const plan = planProject(spec, {});

  it('names objects after the stage alone, as Bodywork 3 does, so stages can call http://stage-4:5000', () => {
    expect(serviceStage(plan, 'stage_4').service.metadata?.name).toBe('stage-4');
    expect(batchStage(plan, 'stage_1').job.metadata?.name).toBe('stage-1');
  });

  it('defaults the namespace to the project name', () => {
    expect(plan.namespace).toBe('bodywork-test-project');
    expect(serviceStage(plan, 'stage_3').url).toBe('http://stage-3.bodywork-test-project.svc.cluster.local:5000');
  });

  it("uses the config's namespace over the project name, and the option over both", () => {
    expect(planProject({ ...spec, namespace: 'Team_A' }).namespace).toBe('team-a');
    expect(planProject({ ...spec, namespace: 'team-a' }, { namespace: 'team-b' }).namespace).toBe('team-b');
  });

  it('refuses a namespace option that is not a valid name instead of changing it', () => {
    expect(() => planProject(spec, { namespace: 'Team_B' })).toThrow(PlanError);
    expect(() => planProject(spec, { namespace: 'Team_B' })).toThrow(/namespace 'Team_B' is not a valid Kubernetes namespace name/);
  });

  it('runs the stages of one step side by side', () => {
    expect(plan.steps.map((s) => s.stages.map((st) => st.baseName))).toEqual([['stage-1'], ['stage-2'], ['stage-3', 'stage-4'], ['stage-5']]);
  });

  it('passes secrets as secretKeyRef environment variables', () => {
    const env = serviceStage(plan, 'stage_4').deployment.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.filter((e) => e.valueFrom !== undefined)).toEqual([
      { name: 'USERNAME', valueFrom: { secretKeyRef: { name: 'bodywork-test-project-credentials', key: 'USERNAME' } } },
      { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'bodywork-test-project-credentials', key: 'PASSWORD' } } },
    ]);
  });

  it('gives "1.1" services a startup probe of MAX_STARTUP_TIME_SECONDS at a 1 s period, as Bodywork 3, and fast readiness', () => {
    const { deployment, startup } = serviceStage(plan, 'stage_3');
    const main = deployment.spec?.template.spec?.containers[0];
    expect(main?.startupProbe).toEqual({ tcpSocket: { port: 5000 }, periodSeconds: 1, failureThreshold: 60 });
    expect(main?.readinessProbe).toEqual({ tcpSocket: { port: 5000 }, periodSeconds: 1, failureThreshold: 3 });
    expect(main?.livenessProbe).toEqual({ tcpSocket: { port: 5000 }, periodSeconds: 10, failureThreshold: 3 });
    expect(startup).toEqual({ check: 'probe', seconds: 60, graceSeconds: 0, setting: 'max_startup_time_seconds' });
    expect(deployment.spec?.progressDeadlineSeconds).toBe(60 + 60);
    // A "1.0" project (Bodywork 2) had no probes: the wait enforces its limit.
    const v10 = serviceStage(planProject({ ...spec, schemaVersion: '1.0' }), 'stage_3');
    expect(v10.startup).toEqual({ check: 'wait', seconds: 60, graceSeconds: 90, setting: 'max_startup_time_seconds' });
    expect(v10.deployment.spec?.template.spec?.containers[0]?.startupProbe).toBeUndefined();
  });

  it('installs a requirements list quoted for the shell and passes args', () => {
    const run = (args: string) => `exec python -c ${shellQuote(SCRIPT_RUNNER)} 30 max_completion_time_seconds main.py main.py ${args}`;
    const script = batchStage(plan, 'stage_1').job.spec?.template.spec?.containers[0]?.command?.[2];
    expect(script).toBe(`set -e\ncd /bodywork/project/stage_one\n${run('Hello World')}`);
    const withReqs = planProject({
      ...spec,
      stages: { ...spec.stages, stage_1: { ...spec.stages.stage_1!, requirements: ['requests>=2', "it's"], args: ['a b', '$HOME'] } },
    });
    expect(batchStage(withReqs, 'stage_1').job.spec?.template.spec?.containers[0]?.command?.[2]).toBe(
      `set -e\npython -m pip install --no-cache-dir --disable-pip-version-check 'requests>=2' 'it'\\''s'\ncd /bodywork/project/stage_one\n${run("'a b' '$HOME'")}`,
    );
  });

  it('runs a script at the project root from the root, and a notebook with nbconvert, limited like a script', () => {
    const container = (executable: string, seconds = 0) =>
      batchStage(planProject({ ...spec, stages: { ...spec.stages, stage_1: { ...spec.stages.stage_1!, executable, args: [], batch: { maxCompletionTimeSeconds: seconds, retries: 0 } } } }), 'stage_1').job
        .spec?.template.spec?.containers[0];
    expect(container('main.py')?.command?.[2]).toBe('set -e\ncd /bodywork/project\nexec python main.py');
    expect(container('notebooks/train model.ipynb')?.command?.[2]).toBe(
      `set -e\ncd /bodywork/project/notebooks\nexec python -c ${shellQuote(NOTEBOOK_RUNNER)} 'train model.ipynb'`,
    );
    expect(container('notebooks/train model.ipynb', 30)?.command?.[2]).toBe(
      `set -e\ncd /bodywork/project/notebooks\nexec python -c ${shellQuote(SCRIPT_RUNNER)} 30 max_completion_time_seconds 'train model.ipynb' -c ${shellQuote(NOTEBOOK_RUNNER)} 'train model.ipynb'`,
    );
  });

  it("puts a notebook stage's Jupyter and IPython state in the writable working copy, and a script's nowhere", () => {
    const env = (executable: string) =>
      batchStage(planProject({ ...spec, stages: { ...spec.stages, stage_1: { ...spec.stages.stage_1!, executable, args: [] } } }), 'stage_1').job.spec?.template.spec
        ?.containers[0]?.env;
    expect(env('notebooks/train.ipynb')).toEqual(
      expect.arrayContaining([
        { name: 'IPYTHONDIR', value: '/bodywork/project/.bodywork-notebook' },
        { name: 'JUPYTER_RUNTIME_DIR', value: '/bodywork/project/.bodywork-notebook/jupyter-runtime' },
        { name: 'JUPYTER_DATA_DIR', value: '/bodywork/project/.bodywork-notebook/jupyter-data' },
      ]),
    );
    expect(env('main.py')?.map((e) => e.name)).not.toContain('IPYTHONDIR');
    expect(env('main.py')?.map((e) => e.name)).not.toContain('JUPYTER_RUNTIME_DIR');
  });

  it('does not spend a retry on a pod that was evicted or preempted', () => {
    expect(batchStage(plan, 'stage_1').job.spec?.podFailurePolicy).toEqual({
      rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
    });
  });

  it('gives no ingress to a service stage without ingress', () => {
    expect(serviceStage(plan, 'stage_4').ingress).toBeUndefined();
    expect(serviceStage(plan, 'stage_4').objects.map((o) => o.kind)).toEqual(['Deployment', 'Service']);
  });

  it('leaves out the commit and run metadata when they are not known', () => {
    const job = batchStage(plan, 'stage_1').job;
    expect(job.metadata?.labels?.['git-commit-hash']).toBeUndefined();
    expect(job.spec?.template.metadata?.annotations).toBeUndefined();
    expect(job.spec?.template.spec?.containers[0]?.env?.map((e) => e.name)).not.toContain('GIT_COMMIT_HASH');
  });

  it('labels every object as managed by bodywork-deploy and part of the project, with valid label values', () => {
    for (const object of planObjects(plan)) {
      expect(object.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'bodywork-deploy', 'app.kubernetes.io/part-of': 'bodywork-test-project' });
      expect(apiServerProblems(object), `${object.kind}/${object.metadata?.name}`).toEqual([]);
    }
    expect(serviceStage(plan, 'stage_3').deployment.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'bodywork-deploy',
      'app.kubernetes.io/part-of': 'bodywork-test-project',
      'app.kubernetes.io/component': 'service',
      app: 'bodywork',
      'deployment-name': 'bodywork-test-project',
      stage: 'stage-3',
    });
  });

  it('plans a subset of stages, keeping their DAG step numbers', () => {
    const subset = planProject(spec, { stages: ['stage_4', 'stage_5'] });
    expect(subset.steps.map((s) => [s.index, s.stages.map((st) => st.stage)])).toEqual([
      [3, ['stage_4']],
      [4, ['stage_5']],
    ]);
    expect(() => planProject(spec, { stages: ['stage_9'] })).toThrow("unknown stage 'stage_9': the DAG has stage_1, stage_2, stage_3, stage_4, stage_5");
  });

  it('uses the image option over the configured image', () => {
    const other = planProject(spec, { image: 'ghcr.io/acme/stages:1.2' });
    expect(other.image).toBe('ghcr.io/acme/stages:1.2');
    for (const object of planObjects(other)) {
      const pod = (object as { spec?: { template?: { spec?: { containers: { image: string }[] } } } }).spec?.template?.spec;
      if (pod) expect(pod.containers[0]?.image).toBe('ghcr.io/acme/stages:1.2');
    }
  });

  it('plans the run_on_failure stage apart from the steps', () => {
    const onFail = planProject({ ...spec, runOnFailure: 'stage_5', dag: [['stage_1']] });
    expect(onFail.onFailure?.job.metadata?.name).toBe('stage-5');
    expect(onFail.steps.flatMap((s) => s.stages.map((st) => st.stage))).toEqual(['stage_1']);
    expect(renderPlanYaml(onFail)).not.toContain('name: stage-5');
  });

  it('refuses two stages that would share a Kubernetes name', () => {
    const clash = { ...spec, stages: { ...spec.stages, 'stage-1': { ...spec.stages.stage_1!, name: 'stage-1' } } };
    // Configured but not deployed: no clash.
    expect(() => planProject(clash)).not.toThrow();
    expect(() => planProject({ ...clash, dag: [...spec.dag, ['stage-1']] })).toThrow("stages 'stage_1' and 'stage-1' would share the Kubernetes name 'stage-1'; rename one");
  });

  it('refuses a commit option that is not a hash', () => {
    expect(() => planProject(spec, { commitSha: 'main' })).toThrow("commit 'main' is not a git commit hash");
  });

  it('is a pure function: the same input gives the same plan', () => {
    expect(planProject(spec, { commitSha: SHA })).toEqual(planProject(spec, { commitSha: SHA }));
  });
});

describe('planProject on awkward names', () => {
  const long = 'a-really-long-project-name-for-the-iris-classification-pipeline';
  const spec: ProjectSpec = { ...irisPipelineSpec(), name: long };

  it('shortens names past 63 characters with a stable hash suffix, keeping them distinct', () => {
    const plan = planProject(spec, { namespace: 'ml' });
    const names = plan.steps.flatMap((s) => s.stages.map((st) => st.baseName));
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^a-really-long-project-name-for-the-iris-classificat.*-[0-9a-f]{8}$/);
    }
    expect(new Set(names).size).toBe(2);
    expect(planProject(spec, { namespace: 'ml' }).steps[0]?.stages[0]?.baseName).toBe(names[0]);
    for (const object of planObjects(plan)) expect(apiServerProblems(object), `${object.kind}/${object.metadata?.name}`).toEqual([]);
  });

  it('keeps a leading digit in the namespace but not in Service names', () => {
    const plan = planProject({ ...yamlTestProjectSpec(), name: '2021-forecast', stages: { '1st': { ...yamlTestProjectSpec().stages.stage_1!, name: '1st' } }, dag: [['1st']] });
    expect(plan.namespace).toBe('2021-forecast');
    expect(plan.steps[0]?.stages[0]?.baseName).toBe('bw-1st');
  });

  it('makes a project name with upper case and underscores into a valid namespace and label value', () => {
    const plan = planProject({ ...spec, name: 'My_Project.v2' });
    expect(plan.namespace).toBe('my-project-v2');
    expect(plan.labels['app.kubernetes.io/part-of']).toBe('my-project-v2');
  });
});

describe('renderPlanYaml', () => {
  const plan = planProject(irisPipelineSpec(), { namespace: 'ml-pipeline', commitSha: SHA });
  const yaml = renderPlanYaml(plan);

  it('renders every object in apply order as one YAML stream', () => {
    const docs = parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'Job', 'Deployment', 'Service', 'Ingress']);
    expect(docs).toEqual(JSON.parse(JSON.stringify(planObjects(plan))));
  });

  it('heads each step with a comment naming its stages', () => {
    expect(yaml).toContain('---\n# step 1/2 (DAG step 1): stage-1-train-model (batch)\napiVersion: batch/v1\nkind: Job\n');
    expect(yaml).toContain('# step 2/2 (DAG step 2): stage-2-deploy-scoring-service (service)\n');
  });

  it('keeps the stage script intact through YAML', () => {
    const job = parse(yaml.split('---\n')[5] as string) as { spec: { template: { spec: { containers: { command: string[] }[] } } } };
    expect(job.spec.template.spec.containers[0]?.command).toEqual(batchStage(plan, 'stage-1-train-model').job.spec?.template.spec?.containers[0]?.command);
  });
});

describe('planProject with the git code source', () => {
  const source = { type: 'git' as const, url: 'https://github.com/acme/iris.git', commit: SHA, tokenSecret: 'bodywork-git-token' };
  const plan = planProject(irisPipelineSpec(), { namespace: 'ml-pipeline', commitSha: SHA, codeBundle: fakeBundle, codeSource: source, repoSubdir: 'pipelines/iris/' });

  it('plans no ConfigMaps: every stage pod clones the commit into an emptyDir with an init container', () => {
    expect(planObjects(plan).filter((o) => o.kind === 'ConfigMap')).toEqual([]);
    const pods = [batchStage(plan, 'stage-1-train-model').job.spec!.template.spec!, serviceStage(plan, 'stage-2-deploy-scoring-service').deployment.spec!.template.spec!];
    for (const pod of pods) {
      expect(pod.volumes).toEqual([
        { name: 'bodywork-checkout', emptyDir: {} },
        { name: 'bodywork-working-copy', emptyDir: {} },
      ]);
      // The checkout is the immutable code; the stage runs in its writable copy, as with the bundle.
      expect(pod.containers[0].volumeMounts).toEqual([
        { name: 'bodywork-checkout', mountPath: '/bodywork/code', readOnly: true, subPath: 'pipelines/iris' },
        { name: 'bodywork-working-copy', mountPath: '/bodywork/project' },
      ]);
      expect(pod.containers[0].command?.[2]).toContain('\nsrc=/bodywork/code\n');
      const [init] = pod.initContainers!;
      expect(pod.initContainers).toHaveLength(1);
      expect(init).toMatchObject({ name: 'fetch-code', image: 'alpine/git:2.45', command: ['/bin/sh', '-c', expect.any(String)] });
      expect(init.volumeMounts).toEqual([{ name: 'bodywork-checkout', mountPath: '/bodywork/checkout' }]);
      const script = init.command![2];
      expect(script).toContain('git init -q .');
      expect(script).toContain('git fetch -q --depth 1 origin "$GIT_COMMIT"');
      expect(script).toContain('checkout -q FETCH_HEAD');
      expect(script).toContain('http.extraHeader');
      // The token is read from the Secret into the environment only: not in the URL, the command or any value.
      expect(init.env).toContainEqual({ name: 'GIT_TOKEN', valueFrom: { secretKeyRef: { name: 'bodywork-git-token', key: 'token' } } });
      expect(init.env).toContainEqual({ name: 'GIT_URL', value: 'https://github.com/acme/iris.git' });
      expect(init.env).toContainEqual({ name: 'GIT_COMMIT', value: SHA });
      expect(init.env).toContainEqual({ name: 'PROJECT_SUBDIR', value: 'pipelines/iris' });
    }
  });

  it('is valid for the API server', () => {
    for (const object of planObjects(plan)) expect(apiServerProblems(object), `${object.kind}/${object.metadata?.name}`).toEqual([]);
  });

  it('mounts the checkout root without a token or subdirectory, and rejects bad options', () => {
    const bare = planProject(irisPipelineSpec(), { codeSource: { type: 'git', url: 'file:///tmp/repo.git', commit: SHA } });
    const pod = batchStage(bare, 'stage-1-train-model').job.spec!.template.spec!;
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: 'bodywork-checkout', mountPath: '/bodywork/code', readOnly: true },
      { name: 'bodywork-working-copy', mountPath: '/bodywork/project' },
    ]);
    expect(pod.initContainers![0].env!.map((e) => e.name)).toEqual(['GIT_URL', 'GIT_COMMIT', 'GIT_TERMINAL_PROMPT']);
    const bad = (codeSource: { type: 'git'; url: string; commit: string; tokenSecret?: string }, repoSubdir?: string) => () =>
      planProject(irisPipelineSpec(), { codeSource, ...(repoSubdir !== undefined ? { repoSubdir } : {}) });
    expect(bad({ type: 'git', url: 'https://x:secret@github.com/acme/iris.git', commit: SHA })).toThrow(/must not hold credentials/);
    expect(bad({ type: 'git', url: 'https://github.com/acme/iris.git', commit: SHA.slice(0, 7) })).toThrow(/full 40-hex commit SHA/);
    expect(bad({ type: 'git', url: 'https://github.com/acme/iris.git', commit: SHA, tokenSecret: 'Bad_Name' })).toThrow(PlanError);
    expect(bad({ type: 'git', url: 'https://github.com/acme/iris.git', commit: SHA }, '../elsewhere')).toThrow(/inside the repository/);
  });
});
