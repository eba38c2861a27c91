/** The overrides file (bodywork-deploy.yaml): read next to the project config, checked against the schema and the deployer's contract, every problem at its line. */
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/engine/config/load.js';
import { formatProblem } from '../../../src/engine/config/problems.js';

const PROJECT = `version: "1.1"
pipeline:
  name: gpu-project
  docker_image: bodyworkml/bodywork-core:latest
  DAG: train >> serve
stages:
  train:
    executable_module_path: train.py
    cpu_request: 0.5
    memory_request_mb: 100
    batch:
      max_completion_time_seconds: 60
      retries: 0
  serve:
    executable_module_path: serve.py
    cpu_request: 0.25
    memory_request_mb: 100
    service:
      max_startup_time_seconds: 30
      replicas: 1
      port: 8000
      ingress: false
logging:
  log_level: INFO
`;

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bodywork-overrides-test-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries({ 'bodywork.yaml': PROJECT, 'train.py': 'print(1)\n', 'serve.py': 'print(2)\n', ...files })) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

/** The problems of a project with `overrides` as its bodywork-deploy.yaml, as printed. */
async function problemsOf(overrides: string): Promise<string[]> {
  return (await loadProject(await project({ 'bodywork-deploy.yaml': overrides }))).problems.map(formatProblem);
}

/** The 1-based line of the first line of `text` that contains `needle`. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('reading the overrides file', () => {
  it('reads bodywork-deploy.yaml next to the project config into the spec, quantities as strings', async () => {
    const dir = await project({
      'bodywork-deploy.yaml': `defaults:
  pod:
    metadata:
      labels: { team: ml }
  container:
    env:
      - { name: LOG_FORMAT, value: json }
stages:
  train:
    pod:
      nodeSelector: { accelerator: nvidia-a100 }
      tolerations:
        - { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }
    container:
      resources:
        limits: { nvidia.com/gpu: 1, memory: 8Gi }
`,
    });
    const { spec, problems } = await loadProject(dir);
    expect(problems).toEqual([]);
    expect(spec?.overrides).toEqual({
      file: 'bodywork-deploy.yaml',
      defaults: {
        source: { file: 'bodywork-deploy.yaml', line: 1, column: 1 },
        pod: { metadata: { labels: { team: 'ml' } } },
        container: { env: [{ name: 'LOG_FORMAT', value: 'json' }] },
      },
      stages: {
        train: {
          source: { file: 'bodywork-deploy.yaml', line: 9, column: 3 },
          pod: { nodeSelector: { accelerator: 'nvidia-a100' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] },
          container: { resources: { limits: { 'nvidia.com/gpu': '1', memory: '8Gi' } } },
        },
      },
    });
  });

  it('has no overrides without the file; reads .yml too, and warns about a second file', async () => {
    expect((await loadProject(await project({}))).spec?.overrides).toBeUndefined();
    const yml = await loadProject(await project({ 'bodywork-deploy.yml': 'stages:\n  train:\n    pod: { priorityClassName: high }\n' }));
    expect(yml.spec?.overrides?.stages.train?.pod).toEqual({ priorityClassName: 'high' });
    const both = await loadProject(await project({ 'bodywork-deploy.yaml': 'defaults: {}\n', 'bodywork-deploy.yml': 'defaults: {}\n' }));
    expect(both.problems.map(formatProblem)).toEqual(['bodywork-deploy.yml: warning: ignored: pod overrides are read from bodywork-deploy.yaml (only one overrides file is used)']);
  });

  it('an empty file is no overrides', async () => {
    expect((await loadProject(await project({ 'bodywork-deploy.yaml': '# nothing yet\n' }))).spec?.overrides).toEqual({ file: 'bodywork-deploy.yaml', stages: {} });
  });

  it('refuses a link out of the project, as for the project config', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'bodywork-overrides-outside-'));
    dirs.push(outside);
    await writeFile(join(outside, 'o.yaml'), 'defaults: {}\n');
    const dir = await project({});
    await symlink(join(outside, 'o.yaml'), join(dir, 'bodywork-deploy.yaml'));
    const { spec, problems } = await loadProject(dir);
    expect(spec).toBeUndefined();
    expect(problems.map(formatProblem)[0]).toMatch(/^bodywork-deploy\.yaml: bodywork-deploy\.yaml links to .*, outside the project directory/);
  });
});

describe('checking the overrides file', () => {
  it('reports unknown fields at their line, with the nearest field name', async () => {
    const text = `stages:
  train:
    pod:
      nodeSelectr: { a: b }
      tolerations:
        - { key: k, operater: Exists }
    container:
      resource: {}
      bogusField: 1
`;
    expect(await problemsOf(text)).toEqual([
      `bodywork-deploy.yaml:4:7: unknown field stages.train.pod.nodeSelectr; did you mean nodeSelector?`,
      `bodywork-deploy.yaml:6:21: unknown field stages.train.pod.tolerations[0].operater; did you mean operator?`,
      `bodywork-deploy.yaml:8:7: unknown field stages.train.container.resource; did you mean resources?`,
      `bodywork-deploy.yaml:9:7: unknown field stages.train.container.bogusField (not a field of Container)`,
    ]);
  });

  it('reports wrong types, empty values and bad quantities', async () => {
    const text = `defaults:
  pod:
    terminationGracePeriodSeconds: "30"
    nodeSelector: { gpu: true }
    tolerations: { key: a }
    priorityClassName:
  container:
    resources:
      limits: { cpu: lots, nvidia.com/gpu: 0.5, gpu: 1 }
`;
    expect(await problemsOf(text)).toEqual([
      'bodywork-deploy.yaml:3:36: defaults.pod.terminationGracePeriodSeconds must be a whole number, got "30" (a string; remove the quotes)',
      'bodywork-deploy.yaml:4:26: defaults.pod.nodeSelector.gpu must be a string, got "true" (a boolean; quote it to make it a string)',
      'bodywork-deploy.yaml:5:18: defaults.pod.tolerations must be a list, got a mapping',
      'bodywork-deploy.yaml:6:5: defaults.pod.priorityClassName has no value; give it one or remove the key (an empty value would delete the field from the pod)',
      'bodywork-deploy.yaml:9:22: defaults.container.resources.limits.cpu must be a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi, got "lots"',
      'bodywork-deploy.yaml:9:44: defaults.container.resources.limits["nvidia.com/gpu"] must be a whole number: extended resources such as nvidia.com/gpu are counted in whole units, got "0.5"',
      'bodywork-deploy.yaml:9:49: defaults.container.resources.limits.gpu: "gpu" is not a resource name: expected cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource with a domain, such as nvidia.com/gpu',
    ]);
  });

  it('refuses what the deployer owns, saying why, every one at once', async () => {
    const text = `defaults:
  pod:
    restartPolicy: Always
    metadata:
      name: mine
      labels:
        stage: other
        app.kubernetes.io/part-of: other
        team: ml
    volumes:
      - { name: bodywork-project, emptyDir: {} }
      - { name: data, persistentVolumeClaim: { claimName: data } }
stages:
  serve:
    container:
      name: app
      image: python:3.12
      command: [python, -m, http.server]
      resources:
        requests: { cpu: "2" }
      env:
        - { name: PYTHONPATH, value: /x }
      volumeMounts:
        - { name: data, mountPath: /bodywork/project/data }
      readinessProbe: { tcpSocket: { port: 8000 } }
`;
    const problems = await problemsOf(text);
    expect(problems).toEqual([
      `bodywork-deploy.yaml:3:5: defaults.pod.restartPolicy cannot be overridden: the engine sets it: Never for batch stages (the Job counts each failed attempt against the stage's retries), Always for service stages (a Deployment allows nothing else)`,
      `bodywork-deploy.yaml:5:7: defaults.pod.metadata.name cannot be overridden: a pod override sets only the labels and annotations of the pod's metadata (the engine names the pods)`,
      `bodywork-deploy.yaml:${lineOf(text, 'stage: other')}:9: defaults.pod.metadata.labels.stage cannot be overridden: the engine sets this label on every stage pod and selects the stage's pods by the engine's labels (Deployment selector, Service, logs, prune)`,
      `bodywork-deploy.yaml:${lineOf(text, 'part-of')}:9: defaults.pod.metadata.labels["app.kubernetes.io/part-of"] cannot be overridden: the engine sets this label on every stage pod and selects the stage's pods by the engine's labels (Deployment selector, Service, logs, prune)`,
      `bodywork-deploy.yaml:11:9: defaults.pod.volumes[0] cannot be overridden: this volume brings the project code into the stage (or holds the working copy it runs in); the engine defines it`,
      `bodywork-deploy.yaml:16:7: stages.serve.container.name cannot be overridden: the engine finds the stage container (its logs, its exit code) by its name`,
      `bodywork-deploy.yaml:17:7: stages.serve.container.image cannot be overridden: the project config (docker_image / DOCKER_IMAGE) or the image input owns the image`,
      `bodywork-deploy.yaml:18:7: stages.serve.container.command cannot be overridden: the engine's command copies the code, installs the requirements and runs the stage's script within its time limit`,
      `bodywork-deploy.yaml:20:21: stages.serve.container.resources.requests.cpu cannot be overridden: the project config owns the stage's requests: set cpu_request / memory_request_mb (CPU_REQUEST / MEMORY_REQUEST_MB) there`,
      `bodywork-deploy.yaml:22:11: stages.serve.container.env[0] cannot be overridden: the engine sets this variable (the stage name, the commit, the project on the Python path, unbuffered output, a notebook's Jupyter state)`,
      `bodywork-deploy.yaml:24:11: stages.serve.container.volumeMounts[0] cannot be overridden: /bodywork/code (the project code) and /bodywork/project (the working copy the stage runs in, emptied at every start) are the engine's; mount elsewhere, outside /bodywork`,
      `bodywork-deploy.yaml:25:7: stages.serve.container.readinessProbe cannot be overridden: the engine's readiness probe decides when a service stage is up (max_startup_time_seconds)`,
    ]);
  });

  it('an override that touches the engine\'s labels is refused at path:line, and nothing is planned', async () => {
    const text = 'stages:\n  train:\n    pod:\n      metadata:\n        labels:\n          stage: hijacked\n';
    const { spec, problems } = await loadProject(await project({ 'bodywork-deploy.yaml': text }));
    expect(spec).toBeUndefined();
    expect(problems).toEqual([
      {
        severity: 'error',
        file: 'bodywork-deploy.yaml',
        line: 6,
        column: 11,
        message: expect.stringMatching(/^stages\.train\.pod\.metadata\.labels\.stage cannot be overridden: the engine sets this label on every stage pod and selects/),
      },
    ]);
  });

  it('checks stage names, keys, merge keys, directives, label syntax and limits below requests', async () => {
    const text = `stages:
  trian:
    pod: {}
  serve:
    pods: {}
    container:
      env:
        - { value: x }
      resources:
        limits: { cpu: 100m }
        requests: { example.com/fpga: 1 }
  train:
    pod:
      $patch: replace
      metadata:
        labels: { "bad key!": x, ok: "not ok!" }
other: 1
`;
    expect(await problemsOf(text)).toEqual([
      `bodywork-deploy.yaml:2:3: stages names "trian", which is not a stage of the project; did you mean "train"?`,
      'bodywork-deploy.yaml:5:5: unknown key stages.serve.pods; did you mean stages.serve.pod?',
      'bodywork-deploy.yaml:8:11: stages.serve.container.env[0] must have name: the items of env are merged into the pod by their name',
      `bodywork-deploy.yaml:10:19: stages.serve.container.resources.limits.cpu (100m) is below stage "serve"'s cpu_request (0.25): Kubernetes refuses a limit below the request; raise the limit or lower the request`,
      `bodywork-deploy.yaml:11:21: stages.serve.container.resources.requests["example.com/fpga"] must equal the limit of example.com/fpga: extended resources cannot be overcommitted (set the limit alone; the request follows it)`,
      'bodywork-deploy.yaml:14:7: stages.train.pod.$patch: strategic-merge directives ($patch, $retainKeys, ...) are not allowed in overrides; write the fields to set',
      'bodywork-deploy.yaml:16:19: stages.train.pod.metadata.labels["bad key!"]: "bad key!" is not a valid label key: [prefix/]name, the name at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
      'bodywork-deploy.yaml:16:34: stages.train.pod.metadata.labels.ok: "not ok!" is not a valid label value: at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
      'bodywork-deploy.yaml:17:1: unknown key other (the file has defaults and stages)',
    ]);
    const limits = await problemsOf('defaults:\n  container:\n    resources:\n      limits: { cpu: 300m, memory: 64Mi }\n');
    expect(limits).toEqual([
      `bodywork-deploy.yaml:4:17: defaults.container.resources.limits.cpu (300m) is below stage "train"'s cpu_request (0.5): Kubernetes refuses a limit below the request; raise the limit or lower the request`,
      `bodywork-deploy.yaml:4:28: defaults.container.resources.limits.memory (64Mi) is below stage "serve"'s memory_request_mb (100): Kubernetes refuses a limit below the request; raise the limit or lower the request`,
      `bodywork-deploy.yaml:4:28: defaults.container.resources.limits.memory (64Mi) is below stage "train"'s memory_request_mb (100): Kubernetes refuses a limit below the request; raise the limit or lower the request`,
    ]);
  });

  it('refuses the engine\'s liveness probe and the stage\'s secret variables (merged, either would hold two sources)', async () => {
    const withSecret = PROJECT.replace('    batch:\n', '    secrets:\n      DB_PASSWORD: db-credentials\n    batch:\n');
    const dir = await project({
      'bodywork.yaml': withSecret,
      'bodywork-deploy.yaml': 'defaults:\n  container:\n    env:\n      - { name: DB_PASSWORD, value: hunter2 }\n    livenessProbe: { httpGet: { path: /healthz, port: 8000 } }\n',
    });
    expect((await loadProject(dir)).problems.map(formatProblem)).toEqual([
      `bodywork-deploy.yaml:4:11: defaults.container.env[0].name: DB_PASSWORD is stage "train"'s secret (its secrets config reads it from a Secret); the override cannot set it too`,
      `bodywork-deploy.yaml:5:5: defaults.container.livenessProbe cannot be overridden: the engine's liveness probe (schema "1.1" services) goes with its startup probe; a probe merged into it would hold two handlers`,
    ]);
  });

  it('refuses a volume or env var that the defaults and a stage define with different sources', async () => {
    const text = `defaults:
  pod:
    volumes:
      - { name: data, persistentVolumeClaim: { claimName: shared } }
  container:
    env:
      - { name: TOKEN, value: dev }
stages:
  train:
    pod:
      volumes:
        - { name: data, emptyDir: {} }
    container:
      env:
        - name: TOKEN
          valueFrom: { secretKeyRef: { name: hub, key: token } }
  serve:
    pod:
      volumes:
        - { name: data, persistentVolumeClaim: { claimName: serve-only } }
`;
    expect(await problemsOf(text)).toEqual([
      'bodywork-deploy.yaml:12:13: stages.train.pod.volumes[0]: the volume "data" is also in defaults.pod.volumes with persistentVolumeClaim; merged by name it would have both persistentVolumeClaim and emptyDir: give it another name, or the same kind of source',
      'bodywork-deploy.yaml:15:11: stages.train.container.env[0]: the environment variable "TOKEN" is also in defaults.container.env with value; merged by name it would have both value and valueFrom: give it another name, or the same kind of source',
    ]);
  });

  it('reports the overrides file\'s problems together with the project config\'s', async () => {
    const dir = await project({ 'bodywork-deploy.yaml': 'defaults:\n  pod: { hostNetwrk: true }\n', 'bodywork.yaml': PROJECT.replace('replicas: 1', 'replicas: 0') });
    expect((await loadProject(dir)).problems.map(formatProblem)).toEqual([
      'bodywork-deploy.yaml:2:10: unknown field defaults.pod.hostNetwrk; did you mean hostNetwork?',
      expect.stringMatching(/^bodywork\.yaml:\d+:\d+: stages\.serve\.service\.replicas must be a whole number from 1 to/),
    ]);
  });

  it('accepts the fields users need: GPUs, scheduling, env, volumes, security, service account', async () => {
    const text = `defaults:
  pod:
    serviceAccountName: ml-runner
    terminationGracePeriodSeconds: 60
    securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 }
    metadata:
      annotations: { prometheus.io/scrape: "true" }
  container:
    envFrom:
      - configMapRef: { name: settings }
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
stages:
  train:
    pod:
      priorityClassName: batch-high
      runtimeClassName: nvidia
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - { key: gpu-type, operator: In, values: [a100, h100] }
      volumes:
        - { name: data, persistentVolumeClaim: { claimName: training-data } }
        - name: models
          csi: { driver: s3.csi.aws.com, volumeAttributes: { bucketName: models } }
        - { name: scratch, emptyDir: { sizeLimit: 10Gi } }
    container:
      resources:
        limits: { nvidia.com/gpu: 2, cpu: 4, memory: 16Gi }
        requests: { nvidia.com/gpu: "2" }
      env:
        - { name: EPOCHS, value: "10" }
        - name: TOKEN
          valueFrom: { secretKeyRef: { name: hub, key: token } }
      volumeMounts:
        - { name: data, mountPath: /data, readOnly: true }
        - { name: models, mountPath: /models }
`;
    expect(await problemsOf(text)).toEqual([]);
  });
});

describe('the README\'s example', () => {
  it('is a valid overrides file for the tutorial\'s project, and a mount of a missing volume is not', async () => {
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const example = /```yaml\n# bodywork-deploy\.yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'bodywork-overrides-readme-'));
    dirs.push(dir);
    await cp(join(repo, 'examples/iris-pipeline'), dir, { recursive: true });
    await writeFile(join(dir, 'bodywork-deploy.yaml'), example!);
    const loaded = await loadProject(dir);
    expect(loaded.problems).toEqual([]);
    expect(loaded.spec?.overrides?.stages['stage-1-train-model']?.container?.resources).toEqual({ limits: { 'nvidia.com/gpu': '1', memory: '8Gi' } });

    const moved = example!.replace('      volumes:\n        - { name: data, persistentVolumeClaim: { claimName: training-data } }\n', '');
    await writeFile(join(dir, 'bodywork-deploy.yaml'), moved);
    expect((await loadProject(dir)).problems.map(formatProblem)).toEqual([
      `bodywork-deploy.yaml:${lineOf(moved, '{ name: data, mountPath')}:13: stages.stage-1-train-model.container.volumeMounts[0].name: stage "stage-1-train-model"'s pod has no volume "data"; add it to defaults.pod.volumes or stages.stage-1-train-model.pod.volumes`,
    ]);
  });
});
