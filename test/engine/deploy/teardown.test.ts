/** teardownProject: our namespace goes whole; in someone else's, only the project's objects go. */
import type { KubernetesObject, V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deployProject } from '../../../src/engine/deploy/deploy.js';
import { LOCK_NAME, LockTimeoutError, acquireLock } from '../../../src/engine/deploy/lock.js';
import { teardownProject } from '../../../src/engine/deploy/teardown.js';
import type { Manifest } from '../../../src/engine/kube/index.js';
import { RecordingLogger } from '../../../src/engine/logger.js';
import { batchProject, httpServer, newRunId, planDir, useDeploySandbox, writeProject } from './helpers.js';

const s = useDeploySandbox();
const dirs = s.dirs;

async function deployed(name: string, dag: string, withService: boolean, namespace?: string, batchStage = 'prep') {
  const dir = await writeProject(
    batchProject(name, dag, {
      [batchStage]: { script: 'print("prep")\n' },
      ...(withService ? { api: { script: httpServer(5000, 'ok'), service: { port: 5000 } } } : {}),
    }),
  );
  dirs.push(dir);
  const { spec, plan } = await planDir(dir, namespace !== undefined ? { namespace } : {});
  const r = await deployProject({ client: s.client, logger: new RecordingLogger(), spec, plan, runId: newRunId(), timeoutMs: 60_000 });
  expect(r.status, JSON.stringify(r, null, 1)).toBe('success');
  return plan;
}

async function names(kind: string, ns: string): Promise<string[]> {
  return (await s.client.list<KubernetesObject>(kind, ns)).items.filter((o) => !o.metadata?.deletionTimestamp).map((o) => o.metadata?.name ?? '');
}

describe('teardownProject', () => {
  it('does not run while a deployment holds the namespace: it waits, then fails naming the holder', async () => {
    const plan = await deployed('busy-td', 'prep', false);
    const held = await acquireLock({ client: s.client, logger: new RecordingLogger(), namespace: 'busy-td', holder: 'deploy-9 (ci/9)' });
    try {
      const err = await teardownProject({ client: s.client, logger: new RecordingLogger(), project: plan.project, namespace: 'busy-td', lock: { timeoutMs: 300 } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LockTimeoutError);
      expect((err as Error).message).toContain('locked by another deployment: deploy-9 (ci/9) holds it since');
      expect(await s.client.exists('Namespace', undefined, 'busy-td')).toBe(true);
      expect(await names('Job', 'busy-td')).toHaveLength(1);
    } finally {
      await held.release();
    }
    expect((await teardownProject({ client: s.client, logger: new RecordingLogger(), project: plan.project, namespace: 'busy-td' })).outcome).toBe('namespace-deleted');
    expect(await s.client.exists('Namespace', undefined, 'busy-td')).toBe(false);
  });

  it('deletes a namespace it created for the project, and waits until it is gone', async () => {
    const plan = await deployed('own-ns', 'prep', false);
    expect((await s.client.get<KubernetesObject>('Namespace', undefined, 'own-ns')).metadata?.labels).toMatchObject(plan.labels);
    const logger = new RecordingLogger();
    const r = await teardownProject({ client: s.client, logger, project: plan.project, namespace: 'own-ns' });
    expect(r).toEqual({ namespace: 'own-ns', outcome: 'namespace-deleted', deleted: [] });
    expect(await s.client.exists('Namespace', undefined, 'own-ns')).toBe(false);
    expect(logger.messages('info')).toEqual([expect.stringMatching(/^acquired the deploy lock in namespace=own-ns as teardown \(/), 'deleting namespace=own-ns']);

    // Again: nothing there.
    const again = await teardownProject({ client: s.client, logger: new RecordingLogger(), project: plan.project, namespace: 'own-ns' });
    expect(again.outcome).toBe('absent');
  });

  it("in a namespace that was there before, deletes only the project's objects and keeps the namespace", async () => {
    await s.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels: { owner: 'team-a' } } });
    await s.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'team-settings', namespace: 'team' }, data: { a: '1' } });
    await s.client.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'team-bot', namespace: 'team' } });
    // Another project of ours in the same namespace (stage names must differ: they name the objects): not touched.
    await deployed('neighbour', 'nb-prep', false, 'team', 'nb-prep');
    const plan = await deployed('guest', 'prep >> api', true, 'team');
    // A lock the project's killed run left behind (expired long ago).
    const old = new Date(Date.now() - 3_600_000).toISOString().replace('Z', '000Z');
    await s.client.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: LOCK_NAME, namespace: 'team', labels: plan.labels },
      spec: { holderIdentity: 'killed (h/1)', leaseDurationSeconds: 60, renewTime: old },
    } as Manifest);

    // A Secret labelled as the project's (the action's `secrets` input makes those) goes; the team's own stays.
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'guest-creds', namespace: 'team', labels: plan.labels }, stringData: { K: 'v' } });
    await s.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'team-creds', namespace: 'team' }, stringData: { K: 'v' } });

    const before = { deployments: await names('Deployment', 'team'), services: await names('Service', 'team'), jobs: await names('Job', 'team') };
    expect(before.deployments).toEqual(['api']);
    expect(before.jobs).toHaveLength(2);

    const logger = new RecordingLogger();
    const r = await teardownProject({ client: s.client, logger, project: plan.project, namespace: 'team' });
    expect(r.outcome).toBe('objects-deleted');
    const guestJob = before.jobs.find((j) => j.startsWith('prep-'));
    expect(r.deleted).toEqual(expect.arrayContaining(['Deployment/api', 'Service/api', 'Secret/guest-creds']));
    // The expired lock was taken over for the teardown, then released (deleted).
    expect(logger.messages('warn')).toEqual([expect.stringMatching(/^took over the deploy lock in namespace=team from killed \(h\/1\)/)]);
    expect(await s.client.exists('Secret', 'team', 'team-creds')).toBe(true);
    // The stage ServiceAccount and RBAC are shared with the neighbour project: kept.
    expect(r.deleted.filter((d) => /^(Role|RoleBinding|ServiceAccount)\//.test(d))).toEqual([]);
    expect(logger.messages('info')).toContain('kept the stage service account, role and role binding of namespace=team: shared with project neighbour');
    expect(await s.client.exists('ServiceAccount', 'team', 'bodywork-stage')).toBe(true);
    expect(r.deleted.filter((d) => d.startsWith('Job/'))).toHaveLength(1);
    expect(r.deleted.filter((d) => d.startsWith('ConfigMap/guest-code-'))).toHaveLength(1);
    expect(logger.messages('info')).toContain('deleted deployment=api from namespace=team');
    expect(r.deleted).toContain(`Job/${guestJob}`);

    expect(await s.client.exists('Namespace', undefined, 'team')).toBe(true);
    expect(await names('Deployment', 'team')).toEqual([]);
    expect(await names('Service', 'team')).toEqual([]);
    expect(await s.client.exists('ConfigMap', 'team', 'team-settings')).toBe(true);
    expect(await s.client.exists('ServiceAccount', 'team', 'team-bot')).toBe(true);
    expect(await s.client.find<V1Lease>('Lease', 'team', LOCK_NAME)).toBeUndefined();
    // The neighbour's Job and bundle are still there; the guest's are gone.
    expect(await names('Job', 'team')).toEqual([expect.stringMatching(/^nb-prep-/)]);
    expect((await names('ConfigMap', 'team')).filter((n) => n.startsWith('neighbour-code-'))).toHaveLength(1);
    expect((await names('ConfigMap', 'team')).filter((n) => n.startsWith('guest-code-'))).toEqual([]);

    // The neighbour goes last: now the shared objects go too, and the namespace stays.
    const last = await teardownProject({ client: s.client, logger: new RecordingLogger(), project: 'neighbour', namespace: 'team' });
    expect(last.deleted).toEqual(expect.arrayContaining(['RoleBinding/bodywork-stage', 'Role/bodywork-stage', 'ServiceAccount/bodywork-stage']));
    expect(await names('Job', 'team')).toEqual([]);
    expect(await s.client.exists('Namespace', undefined, 'team')).toBe(true);
    expect(await s.client.exists('ServiceAccount', 'team', 'team-bot')).toBe(true);
  });
});
