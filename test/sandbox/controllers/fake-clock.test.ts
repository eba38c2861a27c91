/**
 * The controllers read time only from their injected clock: deadlines, back-offs and condition times are driven here by
 * stepping a FakeClock, without a node and without waiting for them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClusterStore } from '../../../src/sandbox/apiserver/registry.js';
import { startControllers, type ControllerOptions, type Controllers } from '../../../src/sandbox/controllers/index.js';
import type { ClusterStore, KubeObject } from '../../../src/sandbox/types.js';
import { FakeClock } from '../../support/fake-clock.js';
import { deployment, eventsFor, job, podsOf, waitFor } from './helpers.js';

let running: Controllers | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** The store and the given controllers, plus the ServiceAccounts controller that pod admission needs. */
function start(enabled: NonNullable<ControllerOptions['enabled']>): { store: ClusterStore; clock: FakeClock } {
  const store = createClusterStore();
  const clock = new FakeClock();
  running = startControllers(store, { enabled: ['serviceaccount', ...enabled], clock });
  return { store, clock };
}

const condition = (o: KubeObject | undefined, type: string): any => (o?.status?.conditions ?? []).find((c: any) => c.type === type);

describe('controllers on an injected clock', () => {
  it('a Deployment whose pods never become ready times out at progressDeadlineSeconds of clock time', async () => {
    const { store, clock } = start(['replicaset', 'deployment']);
    store.create('apps/deployments', 'default', deployment('web', { progressDeadlineSeconds: 60 }));
    const get = (): KubeObject | undefined => store.find('apps/deployments', 'default', 'web');
    // Settled: the new ReplicaSet's pod counted (nothing changes after that without a node).
    const progressing = await waitFor(store, () => get()?.status?.updatedReplicas === 1 && condition(get(), 'Progressing'), 'Progressing');
    expect(progressing).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2030-01-01T00:00:00Z' });
    expect(clock.pending).toBeGreaterThan(0); // requeueStuckDeployment's wake-up, on the fake clock

    clock.advance(59_000);
    expect(condition(get(), 'Progressing')?.status).toBe('True');

    clock.advance(3_000);
    const timedOut = await waitFor(store, () => condition(get(), 'Progressing')?.reason === 'ProgressDeadlineExceeded' && condition(get(), 'Progressing'), 'the deadline');
    expect(timedOut).toMatchObject({ status: 'False', message: expect.stringMatching(/has timed out progressing/), lastUpdateTime: '2030-01-01T00:01:02Z' });
    expect(eventsFor(store, 'default', 'web').map((e) => e.reason)).toContain('ProgressDeadlineExceeded');
  });

  it('a Job past activeDeadlineSeconds of clock time fails with DeadlineExceeded', async () => {
    const { store, clock } = start(['job']);
    const created = store.create('batch/jobs', 'default', job('slow', 'sleep 3600', { activeDeadlineSeconds: 30 }));
    await waitFor(store, () => podsOf(store, 'default', created.metadata.uid!).length === 1, 'the pod');
    expect(store.get('batch/jobs', 'default', 'slow').status.startTime).toBe('2030-01-01T00:00:00Z');

    clock.advance(31_000);
    const failed = await waitFor(store, () => condition(store.get('batch/jobs', 'default', 'slow'), 'Failed'), 'Failed');
    expect(failed).toMatchObject({ status: 'True', reason: 'DeadlineExceeded', lastTransitionTime: '2030-01-01T00:00:31Z' });
    expect(podsOf(store, 'default', created.metadata.uid!)).toEqual([]);
  });

  it("a Job's replacement pod waits out the failure back-off on the clock", async () => {
    const { store, clock } = start(['job']);
    const created = store.create('batch/jobs', 'default', job('flaky', 'exit 1', { backoffLimit: 3 }));
    const pods = (): KubeObject[] => podsOf(store, 'default', created.metadata.uid!);
    const [first] = await waitFor(store, () => pods().length === 1 && pods(), 'the first pod');
    // The pod fails (as a kubelet would report it) at clock time.
    first.status = { phase: 'Failed', containerStatuses: [{ name: 'main', state: { terminated: { exitCode: 1, finishedAt: '2030-01-01T00:00:00Z' } } }] };
    store.update('pods', 'default', first.metadata.name!, first, { subresource: 'status' });
    // Counted in the same sync that decided to wait: no second pod before the back-off (10 s) passed.
    await waitFor(store, () => store.get('batch/jobs', 'default', 'flaky').status?.failed === 1, 'the failure counted');
    expect(pods().filter((p) => p.status?.phase !== 'Failed')).toEqual([]);

    clock.advance(9_000);
    expect(pods().filter((p) => p.status?.phase !== 'Failed')).toEqual([]);
    clock.advance(2_000);
    await waitFor(store, () => pods().some((p) => p.metadata.uid !== first.metadata.uid), 'the replacement pod');
  });

  it("the namespace controller's conditions carry clock time, and change it only when their status does", async () => {
    const { store, clock } = start(['namespace']);
    store.create('namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } });
    // A pod on a node is deleted gracefully: it stays until its kubelet confirms, content without finalizers.
    store.create('pods', 'gone', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'sandbox', containers: [{ name: 'c', image: 'busybox' }] } });
    store.create('configmaps', 'gone', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    store.delete('namespaces', undefined, 'gone');
    await running!.settle();
    const conditions = (): any[] => store.get('namespaces', undefined, 'gone').status.conditions;
    const at = (type: string): string => conditions().find((c) => c.type === type)?.lastTransitionTime;
    expect(conditions().find((c) => c.type === 'NamespaceFinalizersRemaining')).toMatchObject({ status: 'True', lastTransitionTime: '2030-01-01T00:00:00Z' });
    expect(at('NamespaceContentRemaining')).toBe('2030-01-01T00:00:00Z');

    clock.advance(60_000);
    store.patch('configmaps', 'gone', 'held', 'merge', { metadata: { finalizers: null } });
    await running!.settle();
    expect(conditions().find((c) => c.type === 'NamespaceFinalizersRemaining')).toMatchObject({ status: 'False', lastTransitionTime: '2030-01-01T00:01:00Z' });
    expect(at('NamespaceContentRemaining')).toBe('2030-01-01T00:00:00Z');

    // The kubelet's confirmation: the namespace is empty, then finalized and removed.
    store.delete('pods', 'gone', 'p', { gracePeriodSeconds: 0 });
    await running!.settle();
    expect(store.find('namespaces', undefined, 'gone')).toBeUndefined();
  });
});
