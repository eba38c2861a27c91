/**
 * runServiceStage end to end: the sandbox (API server, controllers, kubelet running `sleep` processes) reached over
 * HTTP through client-node, with a plan made runnable there by `sandboxPlan` (see its comment for the overrides).
 */
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planProject, type PlannedServiceStage } from '../../../src/engine/plan/index.js';
import { createServiceStageRunner, rolloutTimeoutMs, runServiceStage } from '../../../src/engine/deploy/service-stage.js';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import { waitForObject, type KubeClient } from '../../../src/engine/kube/index.js';
import { chooseRollbackTarget, findNewReplicaSet, revisionOf, rollbackManifest, rolloutStatus } from '../../../src/engine/deploy/rollout.js';
import {
  STAGE,
  ServiceTestLogger,
  applySetup,
  deployContext,
  recordReplicaSets,
  sandboxClient,
  sandboxPlan,
  serviceProjectSpec,
  type ServiceSpecOptions,
} from './support/service-sandbox.js';
import { sandboxFetch } from '../../sandbox/apiserver/helpers.js';
import { sharedDir } from './helpers.js';

let sandbox: Sandbox;
let client: KubeClient;
let logger: ServiceTestLogger;
let nsCounter = 0;

beforeAll(async () => {
  // No Python venvs: the one Python command here needs the standard library only.
  sandbox = await startSandbox({ kubelet: { maxGracePeriodMs: 1000 }, python: false });
  logger = new ServiceTestLogger();
  client = sandboxClient(sandbox.kubeconfig, logger);
});

afterAll(async () => {
  await sandbox?.stop();
});

/** A fresh namespace (with the plan's ServiceAccount) and a project in it. */
async function project(o: ServiceSpecOptions = {}) {
  nsCounter++;
  const namespace = `svc-${nsCounter}`;
  const spec = serviceProjectSpec(`svc-project-${nsCounter}`, o);
  await applySetup(client, sandboxPlan(spec, namespace, 'setup').plan);
  return { spec, namespace };
}

async function deployment(namespace: string, name: string): Promise<V1Deployment> {
  return client.get<V1Deployment>('Deployment', namespace, name);
}

async function replicaSets(namespace: string): Promise<V1ReplicaSet[]> {
  return (await client.list<V1ReplicaSet>('ReplicaSet', namespace)).items;
}

const rev = (o: { metadata?: { annotations?: Record<string, string> } }) => o.metadata?.annotations?.['deployment.kubernetes.io/revision'];

describe('runServiceStage', () => {
  it('rolls out a first deployment and reports it', async () => {
    const { spec, namespace } = await project({ replicas: 2 });
    const { plan, stage } = sandboxPlan(spec, namespace, 'run-1');
    const log = new ServiceTestLogger();
    const result = await runServiceStage(deployContext(client, log, spec, plan, 'run-1'), stage, 2);
    expect(result).toMatchObject({
      stage: STAGE,
      type: 'service',
      step: 2,
      status: 'succeeded',
      attempts: 1,
      object: `Deployment/${STAGE}`,
      url: `http://${STAGE}.${namespace}.svc.cluster.local:5000`,
      readyReplicas: 2,
      replicas: 2,
    });
    expect(result.reason).toBeUndefined();
    expect(result.durationMs).toBeGreaterThan(0);
    // Besides the per-replica progress (how many samples depends on timing): the start and the end.
    expect(log.messages('info').filter((m) => !/: \d\/2 new replicas ready$/.test(m))).toEqual([`${STAGE}: rolling out Deployment ${STAGE} (2 replicas)`, `${STAGE}: 2/2 replicas ready`]);
    const d = await deployment(namespace, STAGE);
    expect(rev(d)).toBe('1');
    expect(d.status?.availableReplicas).toBe(2);
    expect(await client.exists('Service', namespace, STAGE)).toBe(true);
  });

  it("streams the new pods' logs while rolling out, until ready: each line once, through onLogLine only, prefixed", async () => {
    const { spec, namespace } = await project({ replicas: 1 });
    const shared = await sharedDir();
    const release = join(shared, 'released');
    // Ready only once the release file exists, which only a line streamed live creates.
    const { plan, stage } = sandboxPlan(spec, namespace, 'run-1', { command: ['sh', '-c', 'echo warming up; echo "model <b>loaded</b>"; exec sleep 600'], ready: ['test', '-f', release] });
    const log = new ServiceTestLogger();
    const lines: { stage: string; line: string }[] = [];
    const ctx = {
      ...deployContext(client, log, spec, plan, 'run-1'),
      onLogLine: (s: string, line: string) => {
        lines.push({ stage: s, line });
        if (line === `[${STAGE}] model <b>loaded</b>`) writeFileSync(release, '');
      },
    };
    const result = await runServiceStage(ctx, stage, 1);
    expect(result.status, result.reason).toBe('succeeded');
    expect(lines.filter((l) => l.line === `[${STAGE}] warming up`)).toHaveLength(1);
    expect(lines.filter((l) => l.line === `[${STAGE}] model <b>loaded</b>`)).toHaveLength(1);
    expect(lines.every((l) => l.stage === STAGE)).toBe(true);
    // One channel: none of it went to the logger too.
    expect(log.entries.some((e) => e.message.includes('warming up'))).toBe(false);
    await rm(shared, { recursive: true, force: true });
  });

  it('delivers the lines written just before readiness, each once, however soon the pod turns ready', async () => {
    const { spec, namespace } = await project({ replicas: 1 });
    const shared = await sharedDir();
    const ready = join(shared, 'ready');
    // The container says its last words and at once makes itself ready: the rollout may end before a live follow
    // has read them, and the last read when it ends must still deliver them.
    const { plan, stage } = sandboxPlan(spec, namespace, 'run-1', { command: ['sh', '-c', `echo loading; echo "listening on :5000"; touch ${ready}; exec sleep 600`], ready: ['test', '-f', ready] });
    const lines: string[] = [];
    const ctx = { ...deployContext(client, new ServiceTestLogger(), spec, plan, 'run-1'), onLogLine: (_s: string, line: string) => lines.push(line) };
    const result = await runServiceStage(ctx, stage, 1);
    expect(result.status, result.reason).toBe('succeeded');
    expect(lines).toEqual([`[${STAGE}] loading`, `[${STAGE}] listening on :5000`]);
    await rm(shared, { recursive: true, force: true });
  });

  it('rolls out a real server with the planned TCP startup/readiness/liveness probes unchanged', async () => {
    // A free port, in case pods share the host network (no isolation here): then one replica only, two would clash.
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const { spec, namespace } = await project({ replicas: 1, port });
    const { plan, stage } = sandboxPlan(spec, namespace, 'run-1');
    const planned = planProject(spec, { namespace, runId: 'run-1', commitSha: 'abcdef1234567' }).steps[0].stages[0] as PlannedServiceStage;
    const c = stage.deployment.spec!.template.spec!.containers[0];
    const p0 = planned.deployment.spec!.template.spec!.containers[0];
    // Only the command differs from the plan: the probes are the planned TCP ones.
    Object.assign(c, { command: ['python3', '-m', 'http.server', String(port)], startupProbe: p0.startupProbe, readinessProbe: p0.readinessProbe, livenessProbe: p0.livenessProbe });
    expect(c.readinessProbe?.tcpSocket?.port).toBe(port);
    const result = await runServiceStage(deployContext(client, logger, spec, plan, 'run-1'), stage, 1);
    expect(result).toMatchObject({ status: 'succeeded', readyReplicas: 1, replicas: 1, url: `http://${STAGE}.${namespace}.svc.cluster.local:${port}` });
    // The Service reaches it (through the sandbox's host forwarding of Service ports).
    const url = await sandbox.serviceUrl(STAGE, { namespace });
    expect(url).toBeDefined();
    expect((await fetch(url!)).status).toBe(200);
    // Tidy up: on a shared host network the server holds the port.
    await client.delete('Deployment', namespace, STAGE);
  });

  it('reports the public URL once an ingress controller published an address', async () => {
    const { spec, namespace } = await project({ replicas: 1, ingress: true });
    const first = sandboxPlan(spec, namespace, 'run-1');
    const r1 = await runServiceStage(deployContext(client, logger, spec, first.plan, 'run-1'), first.stage, 1);
    expect(r1.status).toBe('succeeded');
    expect(r1.publicUrl).toBeUndefined();
    // What an ingress controller does (the sandbox has none): publish its address in the Ingress status.
    const rsp = await sandboxFetch(sandbox)(`${sandbox.url}/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses/${STAGE}/status`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } }),
    });
    expect(rsp.status).toBe(200);
    const second = sandboxPlan(spec, namespace, 'run-2');
    const r2 = await runServiceStage(deployContext(client, logger, spec, second.plan, 'run-2'), second.stage, 1);
    expect(r2).toMatchObject({ status: 'succeeded', publicUrl: `http://203.0.113.7/${namespace}/${STAGE}/` });
  });

  it('rolls the pods on a new run id: a new ReplicaSet at revision 2', async () => {
    const { spec, namespace } = await project({ replicas: 2 });
    const first = sandboxPlan(spec, namespace, 'run-1');
    expect((await runServiceStage(deployContext(client, logger, spec, first.plan, 'run-1'), first.stage, 1)).status).toBe('succeeded');
    const [rs1] = await replicaSets(namespace);
    const second = sandboxPlan(spec, namespace, 'run-2');
    const result = await runServiceStage(deployContext(client, logger, spec, second.plan, 'run-2'), second.stage, 1);
    expect(result).toMatchObject({ status: 'succeeded', readyReplicas: 2, replicas: 2 });
    const d = await deployment(namespace, STAGE);
    expect(rev(d)).toBe('2');
    expect(d.spec?.template.metadata?.annotations?.['bodywork.dev/run-id']).toBe('run-2');
    const all = await replicaSets(namespace);
    expect(all).toHaveLength(2);
    const rs2 = all.find((rs) => rs.metadata?.name !== rs1.metadata?.name)!;
    expect(rev(rs2)).toBe('2');
    expect(rs2.status?.readyReplicas).toBe(2);
    // The old ReplicaSet is scaled down once the new one is available.
    expect(all.find((rs) => rs.metadata?.name === rs1.metadata?.name)?.spec?.replicas).toBe(0);
  });

  it('fails fast on crash-looping pods, rolls back to the previous revision (10, not 9) and waits for it; old pods keep serving', async () => {
    const { spec, namespace } = await project({ replicas: 2, maxStartupTimeSeconds: 60 });
    const extra = [{ name: 'EXTRA', value: '1' }];
    const run = (runId: string, o: Parameters<typeof sandboxPlan>[3] = {}) => {
      const p = sandboxPlan(spec, namespace, runId, o);
      return runServiceStage(deployContext(client, logger, spec, p.plan, runId), p.stage, 1);
    };
    expect((await run('good-1', { env: extra })).status).toBe('succeeded');
    // Revisions 2-9 straight through the API (each observed before the next, so each gets its own ReplicaSet).
    for (let i = 2; i <= 9; i++) {
      const applied = await client.apply<V1Deployment>(sandboxPlan(spec, namespace, `quick-${i}`, { env: extra }).stage.deployment as never);
      await waitForObject<V1Deployment, boolean>({ client, path: `/apis/apps/v1/namespaces/${namespace}/deployments`, name: STAGE }, (d) => (d?.status?.observedGeneration ?? 0) >= applied.metadata!.generation! && rev(d!) === String(i));
    }
    expect((await run('good-10', { env: extra })).status).toBe('succeeded');
    const good = (await replicaSets(namespace)).find((rs) => rev(rs) === '10')!;
    expect(good.status?.readyReplicas).toBe(2);

    const recorder = await recordReplicaSets(client, namespace);
    // The readiness probe fails as the planned TCP probe would for a server that never listens (an exec `true` could pass
    // in the instant before the crash and count the pod available).
    const result = await run('bad-11', { command: ['sh', '-c', 'echo starting on $HOSTNAME; echo boom >&2; exit 1'], ready: ['false'] });
    recorder.stop();

    expect(result.status).toBe('rolled-back');
    expect(result.reason).toMatch(/CrashLoopBackOff: container "bodywork" crashed/);
    expect(result.reason).toMatch(/exit code 1 \(Error\)/);
    expect(result.reason).toMatch(/; rolled back to revision 10$/);
    // Told by the crash loop (the reason above), not by the 60 s startup budget running out.
    expect(result.readyReplicas).toBe(2);
    const badPod = /pod (\S+):/.exec(result.reason!)![1];
    expect(result.logTail).toEqual(expect.arrayContaining([`${badPod}: starting on ${badPod}`, `${badPod}: boom`]));

    // Rolled back to revision 10's template (the old ReplicaSet is the new one again, at revision 12), and finished.
    const d = await deployment(namespace, STAGE);
    expect(rolloutStatus(d).state).toBe('complete');
    expect(rev(d)).toBe('12');
    expect(d.spec?.template.metadata?.annotations?.['bodywork.dev/run-id']).toBe('good-10');
    expect(d.spec?.template.metadata?.labels?.['pod-template-hash']).toBeUndefined();
    expect(d.metadata?.annotations?.['bodywork.dev/run-id']).toBe('good-10');
    expect(d.spec?.template.spec?.containers[0].env).toEqual(expect.arrayContaining(extra));
    const after = await replicaSets(namespace);
    const restored = after.find((rs) => rs.metadata?.name === good.metadata?.name)!;
    expect(rev(restored)).toBe('12');
    expect(restored.metadata?.annotations?.['deployment.kubernetes.io/revision-history']).toBe('10');

    // The failed rollout did happen (new pods were created), and the old ReplicaSet never dropped below 2 ready.
    const bad = recorder.samples.filter((s) => s.revision === '11');
    expect(Math.max(...bad.map((s) => s.replicas))).toBeGreaterThanOrEqual(1);
    const old = recorder.samples.filter((s) => s.name === good.metadata?.name);
    expect(old.length).toBeGreaterThan(0);
    expect(Math.min(...old.map((s) => s.ready))).toBeGreaterThanOrEqual(2);
    expect(Math.min(...old.map((s) => s.replicas))).toBeGreaterThanOrEqual(2);

    // The next apply still owns the template: an env var it drops is really gone.
    const next = await run('good-13');
    expect(next.status).toBe('succeeded');
    const d2 = await deployment(namespace, STAGE);
    expect(d2.spec?.template.spec?.containers[0].env?.map((e) => e.name)).not.toContain('EXTRA');
    // Only our apply owns spec fields (the controllers own the revision annotation and the status).
    const specOwners = (d2.metadata?.managedFields ?? []).filter((f) => JSON.stringify(f.fieldsV1 ?? {}).includes('"f:spec"')).map((f) => `${f.manager}/${f.operation}`);
    expect(specOwners).toEqual(['bodywork-deploy/Apply']);
  });

  it('deletes the Deployment, Service and Ingress when a first-ever deployment fails', async () => {
    const { spec, namespace } = await project({ replicas: 1, ingress: true });
    const { plan, stage } = sandboxPlan(spec, namespace, 'run-1', { command: ['sh', '-c', 'echo no model found; exit 3'], ready: ['false'] });
    expect(stage.ingress).toBeDefined();
    const result = await runServiceStage(deployContext(client, logger, spec, plan, 'run-1'), stage, 1);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/CrashLoopBackOff: .*exit code 3 \(Error\)/);
    expect(result.logTail?.some((l) => l.endsWith(': no model found'))).toBe(true);
    expect(await client.exists('Deployment', namespace, STAGE)).toBe(false);
    expect(await client.exists('Service', namespace, STAGE)).toBe(false);
    expect(await client.exists('Ingress', namespace, STAGE)).toBe(false);
  });

  it('applies a first deployment\'s objects at once, and deletes them all when the server refuses one; an update is left untouched', async () => {
    const { spec, namespace } = await project({ replicas: 1 });
    const refused = (runId: string) => {
      const p = sandboxPlan(spec, namespace, runId);
      p.stage.service.spec!.ports![0]!.port = 70000;
      return p;
    };
    // First deployment: the Deployment went out with the Service, so it is deleted again.
    const first = refused('run-1');
    const r1 = await runServiceStage(deployContext(client, logger, spec, first.plan, 'run-1'), first.stage, 1);
    expect(r1.status).toBe('failed');
    expect(r1.reason).toMatch(/spec\.ports\[0\]\.port.*must be between 1 and 65535/);
    const deploymentApplies = () => logger.messages('debug').filter((m) => m.startsWith(`PATCH /apis/apps/v1/namespaces/${namespace}/deployments/${STAGE}?`)).length;
    expect(deploymentApplies()).toBe(1);
    expect(await client.exists('Deployment', namespace, STAGE)).toBe(false);
    expect(await client.exists('Service', namespace, STAGE)).toBe(false);

    // An update: the Service goes first, and its refusal leaves the serving Deployment as it was.
    const good = sandboxPlan(spec, namespace, 'run-2');
    expect((await runServiceStage(deployContext(client, logger, spec, good.plan, 'run-2'), good.stage, 1)).status).toBe('succeeded');
    const update = refused('run-3');
    const r3 = await runServiceStage(deployContext(client, logger, spec, update.plan, 'run-3'), update.stage, 1);
    expect(r3.status).toBe('failed');
    expect(deploymentApplies()).toBe(2);
    const d = await deployment(namespace, STAGE);
    expect(d.spec?.template.metadata?.annotations?.['bodywork.dev/run-id']).toBe('run-2');
    expect(rev(d)).toBe('1');
  });

  it('reports a missing secret key with the kubelet\'s message (CreateContainerConfigError)', async () => {
    const { spec, namespace } = await project({ replicas: 1, secrets: [{ env: 'PASSWORD', secret: 'creds', key: 'PASSWORD', source: { file: 'bodywork.yaml', line: 12 } }] });
    await client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace }, stringData: { USERNAME: 'alice' } });
    const { plan, stage } = sandboxPlan(spec, namespace, 'run-1');
    const result = await runServiceStage(deployContext(client, logger, spec, plan, 'run-1'), stage, 1);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^pod \S+: CreateContainerConfigError: container "bodywork": couldn't find key PASSWORD in Secret svc-\d+\/creds$/);
    expect(await client.exists('Deployment', namespace, STAGE)).toBe(false);
  });

  it('reports an unschedulable pod with the scheduler\'s message', async () => {
    const { spec, namespace } = await project({ replicas: 1 });
    const { plan, stage } = sandboxPlan(spec, namespace, 'run-1', { requests: { cpu: '1000' } });
    const result = await runServiceStage(deployContext(client, logger, spec, plan, 'run-1'), stage, 1);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/Unschedulable: 0\/1 nodes are available: 1 Insufficient cpu/);
    expect(result.logTail).toBeUndefined();
  });

  it('fails at once when the controller cannot create the pods (ReplicaFailure: no ServiceAccount)', async () => {
    nsCounter++;
    const namespace = `svc-${nsCounter}`;
    const spec = serviceProjectSpec(`svc-project-${nsCounter}`, { replicas: 1 });
    // The namespace only: the plan's ServiceAccount `bodywork-stage` is missing, so pod creation is refused.
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const { plan, stage } = sandboxPlan(spec, namespace, 'run-1');
    const result = await runServiceStage(deployContext(client, logger, spec, plan, 'run-1'), stage, 1);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^ReplicaFailure \(FailedCreate\): .*serviceaccount "bodywork-stage" not found/);
    expect(await client.exists('Deployment', namespace, STAGE)).toBe(false);
  });

  it('reports a Deployment the server refuses (immutable selector) and leaves the existing one alone', async () => {
    const { spec, namespace } = await project({ replicas: 1 });
    const { plan, stage } = sandboxPlan(spec, namespace, 'run-1');
    // An older deployment of the stage with another selector (Bodywork 0.2 selected `app: <stage>`).
    const existing = structuredClone(stage.deployment);
    existing.spec!.selector = { matchLabels: { app: 'bodywork', stage: STAGE } };
    existing.spec!.replicas = 0;
    await client.apply(existing as never, { fieldManager: 'someone-else' });
    const result = await runServiceStage(deployContext(client, logger, spec, plan, 'run-1'), stage, 1);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^Kubernetes API refused to apply Deployment 'stage-2-serve' .*422 Invalid .*spec\.selector.*field is immutable$/);
    const d = await deployment(namespace, STAGE);
    expect(d.spec?.selector.matchLabels).toEqual({ app: 'bodywork', stage: STAGE });
  });

  it('on cancellation stops waiting, rolls back and leaves the previous version serving', async () => {
    const { spec, namespace } = await project({ replicas: 2 });
    const v1 = sandboxPlan(spec, namespace, 'v1');
    expect((await runServiceStage(deployContext(client, logger, spec, v1.plan, 'v1'), v1.stage, 1)).status).toBe('succeeded');
    const [old] = await replicaSets(namespace);
    const recorder = await recordReplicaSets(client, namespace);
    // v2's pods run but never become ready.
    const v2 = sandboxPlan(spec, namespace, 'v2', { ready: ['false'] });
    const ac = new AbortController();
    const log = new ServiceTestLogger();
    const started = log.next((m) => m === `${STAGE}: 0/2 new replicas ready`);
    const running = runServiceStage(deployContext(client, log, spec, v2.plan, 'v2', ac.signal), v2.stage, 1);
    await started;
    ac.abort();
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(result.reason).toBe('cancelled during the rollout; rolling back to revision 1 (not awaited)');
    // The rollback completes on its own: v1's template, all replicas available.
    const d = await waitForObject<V1Deployment, V1Deployment>(
      { client, path: `/apis/apps/v1/namespaces/${namespace}/deployments`, name: STAGE },
      (o) => (o && rolloutStatus(o).state === 'complete' && o.spec?.template.metadata?.annotations?.['bodywork.dev/run-id'] === 'v1' ? o : undefined),
      { timeoutMs: 20_000 },
    );
    expect(d.status?.availableReplicas).toBe(2);
    recorder.stop();
    expect(recorder.samples.some((s) => s.revision === '2' && s.replicas > 0)).toBe(true);
    const oldSamples = recorder.samples.filter((s) => s.name === old.metadata?.name);
    expect(Math.min(...oldSamples.map((s) => s.ready))).toBeGreaterThanOrEqual(2);
  });

  it('on cancellation of a first deployment deletes what it created', async () => {
    const { spec, namespace } = await project({ replicas: 1, ingress: true });
    const { plan, stage } = sandboxPlan(spec, namespace, 'v1', { ready: ['false'] });
    const ac = new AbortController();
    const log = new ServiceTestLogger();
    const started = log.next((m) => m === `${STAGE}: 0/1 new replicas ready`);
    const running = runServiceStage(deployContext(client, log, spec, plan, 'v1', ac.signal), stage, 1);
    await started;
    ac.abort();
    const result = await running;
    expect(result).toMatchObject({ status: 'cancelled', reason: `cancelled during the first rollout; deleted Deployment, Service and Ingress ${STAGE}` });
    expect(await client.exists('Deployment', namespace, STAGE)).toBe(false);
    expect(await client.exists('Service', namespace, STAGE)).toBe(false);
    expect(await client.exists('Ingress', namespace, STAGE)).toBe(false);
  });

  it('gives up after the time budget and rolls back (pods that never become ready)', async () => {
    const { spec, namespace } = await project({ replicas: 1 });
    const v1 = sandboxPlan(spec, namespace, 'v1');
    expect((await runServiceStage(deployContext(client, logger, spec, v1.plan, 'v1'), v1.stage, 1)).status).toBe('succeeded');
    const v2 = sandboxPlan(spec, namespace, 'v2', { command: ['sh', '-c', 'echo warming up; exec sleep 600'], ready: ['false'] });
    const runner = createServiceStageRunner({ timeoutMs: 3000, rollbackTimeoutMs: 20_000 });
    const result = await runner(deployContext(client, logger, spec, v2.plan, 'v2'), v2.stage, 1);
    expect(result.status).toBe('rolled-back');
    // What the new pod was doing at the deadline depends on the machine's speed (still being created, or running
    // unready): only that part of the reason may vary.
    expect(result.reason).toMatch(/^the rollout of Deployment stage-2-serve did not finish within 3 s: 1 old replicas are pending termination; (container "bodywork" is [^;]+; )?rolled back to revision 1$/);
    // The log tail carries what the container printed, prefixed with its pod. (Whether its first line is there yet
    // is a race: the kubelet reports the container running when its command starts, a moment before the echo.)
    for (const line of result.logTail ?? []) expect(line).toMatch(/^stage-2-serve-\S+: warming up$/);
  });
});

describe('rollout helpers', () => {
  const uid = 'dep-uid';
  const rs = (name: string, revision: string, owner = uid, extra: Partial<V1ReplicaSet['metadata']> = {}): V1ReplicaSet => ({
    metadata: { name, annotations: { 'deployment.kubernetes.io/revision': revision }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'x', uid: owner, controller: true }], ...extra },
    spec: { selector: { matchLabels: { stage: 'x' } } },
  });

  it('chooses the highest revision below the current one, numerically, among the ReplicaSets the Deployment controls', () => {
    const sets = [rs('r9', '9'), rs('r10', '10'), rs('r11', '11'), rs('r8', '8'), rs('foreign', '10x'), rs('other-owner', '10', 'someone-else')];
    expect(chooseRollbackTarget(uid, sets, 11)?.metadata?.name).toBe('r10');
    expect(chooseRollbackTarget(uid, sets, 10)?.metadata?.name).toBe('r9');
    expect(chooseRollbackTarget(uid, [rs('r1', '1')], 1)).toBeUndefined();
    expect(chooseRollbackTarget(uid, [rs('other', '3', 'someone-else')], 5)).toBeUndefined();
  });

  it('reads revisions as numbers only', () => {
    expect(revisionOf(rs('a', '12'))).toBe(12);
    expect(revisionOf(rs('a', 'x'))).toBeUndefined();
    expect(revisionOf({ metadata: {} })).toBeUndefined();
  });

  it('judges a Deployment as kubectl rollout status does', () => {
    const d = (generation: number, status: NonNullable<V1Deployment['status']>, replicas = 2): V1Deployment => ({ metadata: { name: 'x', generation }, spec: { replicas, selector: {}, template: {} }, status });
    expect(rolloutStatus(d(2, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }))).toEqual({ state: 'waiting', message: 'Waiting for deployment spec update to be observed...' });
    expect(rolloutStatus(d(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2 })).message).toBe('Waiting for deployment "x" rollout to finish: 1 out of 2 new replicas have been updated...');
    expect(rolloutStatus(d(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 })).message).toBe('Waiting for deployment "x" rollout to finish: 1 old replicas are pending termination...');
    expect(rolloutStatus(d(2, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 })).message).toBe('Waiting for deployment "x" rollout to finish: 1 of 2 updated replicas are available...');
    expect(rolloutStatus(d(2, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }))).toEqual({ state: 'complete', message: 'deployment "x" successfully rolled out' });
    const stuck = d(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] });
    expect(rolloutStatus(stuck)).toEqual({ state: 'failed', message: 'deployment "x" exceeded its progress deadline' });
  });

  it('finds the new ReplicaSet only once the controller observed the generation', () => {
    const dep = (observed: number): V1Deployment => ({ metadata: { name: 'x', uid, generation: 3, annotations: { 'deployment.kubernetes.io/revision': '4' } }, status: { observedGeneration: observed } });
    expect(findNewReplicaSet(dep(2), [rs('r4', '4')])).toBeUndefined();
    expect(findNewReplicaSet(dep(3), [rs('r3', '3'), rs('r4', '4')])?.metadata?.name).toBe('r4');
  });

  it('builds the rollback apply from the ReplicaSet: its template minus pod-template-hash, its version annotations', () => {
    const { stage } = sandboxPlan(serviceProjectSpec('p'), 'ns', 'new-run');
    const old = rs('r1', '1', uid, { annotations: { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '2', 'bodywork.dev/run-id': 'old-run', 'bodywork.dev/git-commit': 'aaaa' } });
    old.spec!.template = {
      metadata: { labels: { stage: 'stage-2-serve', 'pod-template-hash': 'abc123', 'git-commit-hash': 'aaaa' }, annotations: { 'bodywork.dev/run-id': 'old-run' } },
      spec: { containers: [{ name: 'bodywork', image: 'old' }] },
    };
    const m = rollbackManifest(stage.deployment, old);
    expect(m.spec?.template).toEqual({ metadata: { labels: { stage: 'stage-2-serve', 'git-commit-hash': 'aaaa' }, annotations: { 'bodywork.dev/run-id': 'old-run' } }, spec: { containers: [{ name: 'bodywork', image: 'old' }] } });
    expect(m.metadata?.annotations).toEqual({ 'bodywork.dev/stage': STAGE, 'bodywork.dev/run-id': 'old-run', 'bodywork.dev/git-commit': 'aaaa' });
    expect(m.metadata?.labels?.['git-commit-hash']).toBe('aaaa');
    // Everything else is the plan's, so the apply keeps owning the same fields.
    expect(m.spec?.strategy).toEqual(stage.deployment.spec?.strategy);
    expect(m.spec?.replicas).toBe(2);
    expect(m.spec?.selector).toEqual(stage.deployment.spec?.selector);
  });

  it('times a rollout by waves of MAX_SURGE new pods, with the install allowance where the format\'s limit leaves it out', () => {
    const { stage } = sandboxPlan(serviceProjectSpec('p', { replicas: 5, maxStartupTimeSeconds: 40 }), 'ns', 'r');
    expect(rolloutTimeoutMs(stage, false)).toBe((40 + 30) * 1000);
    expect(rolloutTimeoutMs(stage, true)).toBe((3 * 40 + 30) * 1000);
    // A "1.0" (or INI) limit leaves the install out, as Bodywork 1 and 2's wait did: 90 s more per wave.
    const legacy = sandboxPlan({ ...serviceProjectSpec('p', { replicas: 5, maxStartupTimeSeconds: 40 }), schemaVersion: '1.0' }, 'ns', 'r').stage;
    expect(rolloutTimeoutMs(legacy, false)).toBe((40 + 90 + 30) * 1000);
    expect(rolloutTimeoutMs(legacy, true)).toBe((3 * (40 + 90) + 30) * 1000);
  });
});
