/**
 * Pod overrides end to end: a GPU stage (an `nvidia.com/gpu` limit, a toleration of the GPU taint, a nodeSelector)
 * plans and deploys with all of them, on the sandbox and on upstream's scheduler. The node is made a GPU node as a
 * cluster admin and the device plugin would make one: it advertises `nvidia.com/gpu` in its status (capacity and
 * allocatable), carries a label, and a NoSchedule taint keeps pods that do not tolerate it away. A stage asking for
 * more GPUs than the node has stays unscheduled on both (upstream's NodeResourcesFit, the sandbox's likewise).
 */
import type { V1Deployment, V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { checkOnServer } from '../../../src/engine/deploy/dry-run.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { NodeHttp } from '../../../src/sandbox/node/http.js';
import { batchProject, newRunId, planDir, useDeploySandbox } from './helpers.js';

const s = useDeploySandbox();

const GPU_LABEL = { 'bodywork.test/accelerator': 'nvidia-test' };
const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };

beforeAll(async () => {
  const api = new NodeHttp(s.sandbox.kubeconfig);
  const nodes = await api.request<{ items: V1Node[] }>('GET', '/api/v1/nodes');
  expect(nodes.items).toHaveLength(1);
  const name = nodes.items[0].metadata!.name!;
  const merge = 'application/merge-patch+json';
  // As a device plugin reports it (and as the docs' "advertise an extended resource" recipe patches it).
  await api.request('PATCH', `/api/v1/nodes/${name}/status`, { status: { capacity: { 'nvidia.com/gpu': '1' }, allocatable: { 'nvidia.com/gpu': '1' } } }, merge);
  await api.request('PATCH', `/api/v1/nodes/${name}`, { metadata: { labels: GPU_LABEL }, spec: { taints: [GPU_TAINT] } }, merge);
});

const OVERRIDES = `# Every stage tolerates the GPU node's taint (the only node); the training stage asks for a GPU on a GPU node.
defaults:
  pod:
    tolerations:
      - { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }
    metadata:
      annotations: { team.example.com/owner: ml-platform }
  container:
    env:
      - { name: GREETING, value: hello from the overrides }
stages:
  train:
    pod:
      nodeSelector: { bodywork.test/accelerator: nvidia-test }
      terminationGracePeriodSeconds: 5
    container:
      resources:
        limits: { nvidia.com/gpu: 1 }
      env:
        - { name: EPOCHS, value: "3" }
`;

const SERVE = [
  'import http.server, os',
  'class H(http.server.BaseHTTPRequestHandler):',
  '    def do_GET(self):',
  '        data = os.environ["GREETING"].encode()',
  '        self.send_response(200)',
  '        self.send_header("Content-Length", str(len(data)))',
  '        self.end_headers()',
  '        self.wfile.write(data)',
  'print("serve:", os.environ["GREETING"], flush=True)',
  'http.server.HTTPServer(("", 5000), H).serve_forever()',
  '',
].join('\n');

describe('pod overrides on a cluster', () => {
  it('a stage with a GPU limit and a toleration plans and deploys with both', async () => {
    const files = batchProject('gpu-pipeline', 'train >> serve', {
      train: { script: 'import os\nprint("epochs", os.environ["EPOCHS"], "/", os.environ["GREETING"], flush=True)\n' },
      serve: { script: SERVE, service: { port: 5000 } },
    });
    const dir = await s.project({ ...files, 'bodywork-deploy.yaml': OVERRIDES });
    const { spec, plan } = await planDir(dir);
    expect(plan.overrides?.stages.map((o) => [o.stage, o.from])).toEqual([
      ['train', ['defaults', 'stage']],
      ['serve', ['defaults']],
    ]);

    const lines: string[] = [];
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 120_000, keepJobs: 1, onLogLine: (_s, l) => lines.push(l) });
    expect(r.stages.map((x) => [x.stage, x.status]), JSON.stringify(r, null, 1)).toEqual([
      ['train', 'succeeded'],
      ['serve', 'succeeded'],
    ]);
    // The overrides' environment reached the containers.
    expect(lines).toContain('[train] epochs 3 / hello from the overrides');
    expect(lines).toContain('[serve] serve: hello from the overrides');

    // The Job as the cluster stored it, and the pod it ran (scheduled onto the GPU node).
    const ns = plan.namespace;
    const { items: jobs } = await s.client.list<V1Job>('Job', ns, { labelSelector: 'stage=train' });
    expect(jobs).toHaveLength(1);
    const podSpec = jobs[0].spec!.template.spec!;
    expect(podSpec.containers[0].resources?.limits).toEqual({ 'nvidia.com/gpu': '1' });
    expect(podSpec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(podSpec.nodeSelector).toEqual(GPU_LABEL);
    expect(podSpec.terminationGracePeriodSeconds).toBe(5);
    expect(jobs[0].spec!.template.metadata?.annotations).toMatchObject({ 'team.example.com/owner': 'ml-platform' });
    const { items: pods } = await s.client.list<V1Pod>('Pod', ns, { labelSelector: 'stage=train' });
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toBeTruthy();
      expect(pod.spec?.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
      expect(pod.spec?.containers[0].resources?.limits?.['nvidia.com/gpu']).toBe('1');
      expect(pod.status?.phase).toBe('Succeeded');
    }

    // The Deployment got the defaults only: the toleration, the annotation, the environment; no GPU.
    const [deployment] = (await s.client.list<V1Deployment>('Deployment', ns, { labelSelector: 'stage=serve' })).items;
    const template = deployment.spec!.template;
    expect(template.spec?.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(template.spec?.nodeSelector).toBeUndefined();
    expect(template.spec?.containers[0].resources?.limits).toBeUndefined();
    expect(template.spec?.containers[0].env).toContainEqual({ name: 'GREETING', value: 'hello from the overrides' });
    expect(template.metadata?.annotations).toMatchObject({ 'team.example.com/owner': 'ml-platform' });
    expect(await (await fetch((await s.sandbox.serviceUrl('serve', { namespace: ns }))!)).text()).toBe('hello from the overrides');
  });

  it('a stage asking for more GPUs than the node advertises fails with the scheduler\'s reason', async () => {
    const files = batchProject('gpu-too-many', 'train', { train: { script: 'print("never runs")\n' } });
    const overrides = OVERRIDES.replace('limits: { nvidia.com/gpu: 1 }', 'limits: { nvidia.com/gpu: 2 }');
    const dir = await s.project({ ...files, 'bodywork-deploy.yaml': overrides });
    const { spec, plan } = await planDir(dir);
    const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 120_000 });
    expect(r.status).toBe('failure');
    expect(r.stages[0].reason).toMatch(/cannot start: Unschedulable: 0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu\./);
  });

  it('the API server accepts the pod templates a rich override makes (server-side dry run of the Job and Deployment)', async () => {
    const files = batchProject('rich-overrides', 'train >> serve', {
      train: { script: 'print(1)\n' },
      serve: { script: SERVE, service: { port: 5000 } },
    });
    const rich = `defaults:
  pod:
    securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: RuntimeDefault } }
    terminationGracePeriodSeconds: 60
    tolerations:
      - { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }
    metadata:
      labels: { team: ml }
      annotations: { prometheus.io/scrape: "true" }
  container:
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
    envFrom:
      - configMapRef: { name: settings, optional: true }
    resources:
      limits: { memory: 1Gi, cpu: "2" }
stages:
  train:
    pod:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - { key: bodywork.test/accelerator, operator: In, values: [nvidia-test] }
      volumes:
        - { name: data, persistentVolumeClaim: { claimName: training-data, readOnly: true } }
        - name: models
          csi: { driver: s3.csi.aws.com, volumeAttributes: { bucketName: models } }
        - { name: scratch, emptyDir: { sizeLimit: 1Gi } }
    container:
      resources:
        limits: { nvidia.com/gpu: 1 }
        requests: { nvidia.com/gpu: 1 }
      env:
        - name: HUB_TOKEN
          valueFrom: { secretKeyRef: { name: hub, key: token, optional: true } }
      volumeMounts:
        - { name: data, mountPath: /data, readOnly: true }
        - { name: models, mountPath: /models }
        - { name: scratch, mountPath: /scratch }
`;
    const dir = await s.project({ ...files, 'bodywork-deploy.yaml': rich });
    const { plan } = await planDir(dir, { runId: newRunId() });
    // The namespace first, so the API server checks the objects in it.
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: plan.namespace } });
    const result = await checkOnServer({ client: s.client, logger: new RecordingLogger(), plan });
    expect(result.refused.map((o) => `${o.object}: ${o.message}`)).toEqual([]);
    expect(result.unchecked).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
