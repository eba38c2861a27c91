/**
 * Private images end to end: our node's kubelet emulates a private registry (sandbox/kubelet/image-pull.ts) on the
 * embedded sandbox and on the upstream control plane alike. A private image runs with a matching pull secret (named,
 * or made from registry credentials), and without one the stage fails on the kubelet's ErrImagePull report, naming the
 * image and the registry's answer, not at the run's timeout.
 */
import type { CoreV1Event, V1Pod, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { dockerConfigJson, registrySecret } from '../../../src/engine/deploy/pull-secrets.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { REGISTRY_SECRET } from '../../../src/engine/plan/index.js';
import { batchProject, httpServer, newRunId, planDir, useDeploySandbox } from './helpers.js';

const IMAGE = 'ghcr.io/acme/private-model:1';
const USER = 'acme-bot';
const PASSWORD = 'ghp_pullSecretTestToken0123456789';

const s = useDeploySandbox({ kubelet: { registries: [{ server: 'ghcr.io', username: USER, password: PASSWORD, images: [IMAGE] }] } });

/** A project of one batch stage (or one service stage), planned with the private image and `pullSecrets`. */
async function planned(name: string, kind: 'batch' | 'service', pullSecrets?: string[], port = 0) {
  const stage = kind === 'batch' ? { script: 'print("private image ran", flush=True)\n' } : { script: httpServer(port, 'ok'), service: { port } };
  const dir = await s.project(batchProject(name, 'only', { only: stage }));
  return planDir(dir, { image: IMAGE, runId: newRunId(), ...(pullSecrets ? { imagePullSecrets: pullSecrets } : {}) });
}

async function deploy(p: Awaited<ReturnType<typeof planned>>, secrets: Parameters<typeof deployProject>[0]['secrets'] = []) {
  const logger = new RecordingLogger();
  const lines: string[] = [];
  const result = await deployProject({ client: s.client, logger, spec: p.spec, plan: p.plan, runId: newRunId(), timeoutMs: 150_000, secrets, onLogLine: (_s, l) => lines.push(l) });
  return { result, logger, lines };
}

/** Creates a docker-registry Secret in `namespace` (creating the namespace first), as `kubectl create secret docker-registry` would. */
async function dockerSecret(namespace: string, name: string, password: string): Promise<void> {
  await s.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const data = { '.dockerconfigjson': Buffer.from(dockerConfigJson({ server: 'ghcr.io', username: USER, password })).toString('base64') };
  await s.client.apply({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', metadata: { name, namespace }, data } as V1Secret as never);
}

async function podEvents(namespace: string): Promise<CoreV1Event[]> {
  return (await s.client.list<CoreV1Event>('Event', namespace)).items.filter((e) => e.involvedObject?.kind === 'Pod');
}

describe('a private image', () => {
  it('runs a batch stage with a named pull secret, carried by the pod template', async () => {
    const p = await planned('pull-named', 'batch', ['regcred']);
    expect(p.plan.steps[0].stages[0].type === 'batch' && p.plan.steps[0].stages[0].job.spec?.template.spec?.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    await dockerSecret(p.plan.namespace, 'regcred', PASSWORD);
    const { result, lines } = await deploy(p);
    expect(result.stages[0]).toMatchObject({ status: 'succeeded' });
    expect(lines).toContain('[only] private image ran');
    const pulled = (await podEvents(p.plan.namespace)).filter((e) => e.reason === 'Pulled' || e.reason === 'Pulling').map((e) => e.message);
    expect(pulled).toContain(`Pulling image "${IMAGE}"`);
    expect(pulled.some((m) => m?.startsWith(`Successfully pulled image "${IMAGE}"`))).toBe(true);
  });

  it('rolls out a service stage with the Secret made from registry credentials', async () => {
    const p = await planned('pull-creds', 'service', [REGISTRY_SECRET], 18_641);
    const { result } = await deploy(p, [registrySecret({ server: 'https://ghcr.io/', username: USER, password: PASSWORD })]);
    expect(result.stages[0]).toMatchObject({ status: 'succeeded', readyReplicas: 1 });
    const secret = await s.client.find<V1Secret>('Secret', p.plan.namespace, REGISTRY_SECRET);
    expect(secret?.type).toBe('kubernetes.io/dockerconfigjson');
    const config = JSON.parse(Buffer.from(secret!.data!['.dockerconfigjson'], 'base64').toString('utf8'));
    expect(config).toEqual({ auths: { 'ghcr.io': { username: USER, password: PASSWORD, auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } });
    const pods = (await s.client.list<V1Pod>('Pod', p.plan.namespace)).items;
    expect(pods.every((pod) => pod.spec?.imagePullSecrets?.[0]?.name === REGISTRY_SECRET)).toBe(true);
  });

  it('fails a batch stage on the kubelet report without a pull secret, naming the image and the registry answer', async () => {
    const p = await planned('pull-none', 'batch');
    const { result } = await deploy(p);
    const [stage] = result.stages;
    expect(stage.status).toBe('failed');
    expect(stage.reason).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(stage.reason).toContain(`"${IMAGE}"`);
    expect(stage.reason).toContain('401 Unauthorized');
    // The stage's own failure, not the run's deadline.
    expect(result.reason).toBeUndefined();
    expect(stage.reason).not.toMatch(/timed out/);
    expect(stage.events?.some((e) => e.reason === 'Failed' && e.message.startsWith(`Failed to pull image "${IMAGE}": `) && e.message.includes('401 Unauthorized'))).toBe(true);
  });

  it('fails a service stage whose pull secret holds the wrong password, with the registry answer', async () => {
    const p = await planned('pull-wrong', 'service', ['regcred'], 18_642);
    await dockerSecret(p.plan.namespace, 'regcred', 'not-the-password');
    const { result } = await deploy(p);
    const [stage] = result.stages;
    expect(stage.status).not.toBe('succeeded');
    expect(stage.reason).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(stage.reason).toContain('failed to pull and unpack image "ghcr.io/acme/private-model:1"');
    expect(stage.reason).toContain('401 Unauthorized');
    expect(stage.reason).not.toMatch(/timed out|deadline/i);
    expect(result.reason).toBeUndefined();
  });

  it('stops before any stage when a named pull secret does not exist', async () => {
    const p = await planned('pull-missing', 'batch', ['nowhere']);
    const { result } = await deploy(p);
    expect(result.status).toBe('failure');
    expect(result.reason).toBe(`image pull secret "nowhere" does not exist in namespace "${p.plan.namespace}"`);
    expect(result.stages[0]).toMatchObject({ status: 'skipped' });
  });

  it("reaches a pod that names no pull secrets through its ServiceAccount's (ServiceAccount admission)", async () => {
    const ns = 'pull-sa';
    await dockerSecret(ns, 'regcred', PASSWORD);
    await s.client.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'puller', namespace: ns }, imagePullSecrets: [{ name: 'regcred' }] } as never);
    await s.client.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'private', namespace: ns },
      spec: { serviceAccountName: 'puller', restartPolicy: 'Never', containers: [{ name: 'main', image: IMAGE, command: ['python3', '-c', 'print("ok")'] }] },
    } as never);
    const created = await s.client.get<V1Pod>('Pod', ns, 'private');
    expect(created.spec?.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    let pod = created;
    for (let i = 0; i < 300 && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      pod = await s.client.get<V1Pod>('Pod', ns, 'private');
    }
    expect(pod.status?.phase).toBe('Succeeded');
  });
});
