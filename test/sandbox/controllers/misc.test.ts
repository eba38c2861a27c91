import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHash, resolveFenceposts } from '../../../src/sandbox/controllers/deployment/util.js';
import { deletionOrder } from '../../../src/sandbox/controllers/replicaset.js';
import type { KubeObject } from '../../../src/sandbox/types.js';
import { eventsFor, job, podsOf, startHarness, waitFor, type Harness } from './helpers.js';

describe('deployment math', () => {
  const d = (replicas: number, maxSurge?: number | string, maxUnavailable?: number | string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } } },
  });
  it('surge rounds up, unavailable rounds down, both zero -> unavailable 1', () => {
    expect(resolveFenceposts(d(10))).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(resolveFenceposts(d(2))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(resolveFenceposts(d(3, '50%', '50%'))).toEqual({ maxSurge: 2, maxUnavailable: 1 });
    expect(resolveFenceposts(d(1, 0, '10%'))).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(resolveFenceposts(d(4, 2, 1))).toEqual({ maxSurge: 2, maxUnavailable: 1 });
  });
  it('template hash is stable, order-independent and changes with the collision count', () => {
    const a = { metadata: { labels: { app: 'a', tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    const b = { spec: { containers: [{ image: 'x', name: 'c' }] }, metadata: { labels: { tier: 'web', app: 'a' } } };
    expect(computeHash(a)).toBe(computeHash(b));
    expect(computeHash(a)).not.toBe(computeHash(a, 1));
    expect(computeHash(a)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });
});

describe('replicaset deletion ranking', () => {
  const p = (name: string, o: { node?: string; phase?: string; ready?: boolean; created?: string; restarts?: number }): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
    spec: { nodeName: o.node },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: '2026-01-01T00:00:10Z' }],
      containerStatuses: [{ restartCount: o.restarts ?? 0 }],
    },
  });
  it('unscheduled < pending < not ready < restarts < newer', () => {
    const pods = [
      p('ready-old', { node: 'n', ready: true }),
      p('ready-new', { node: 'n', ready: true, created: '2026-01-02T00:00:00Z' }),
      p('unready', { node: 'n' }),
      p('pending', { node: 'n', phase: 'Pending' }),
      p('unscheduled', { phase: 'Pending' }),
      p('restarty', { node: 'n', ready: true, restarts: 5 }),
    ];
    expect([...pods].sort(deletionOrder).map((x) => x.metadata.name)).toEqual(['unscheduled', 'pending', 'unready', 'restarty', 'ready-new', 'ready-old']);
  });
});

describe('controllers with the kubelet', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    if (h.logs.length) console.log(h.logs.join('\n'));
    await h.stop();
  });

  it('endpoints list ready pods in addresses and unready ones in notReadyAddresses, with named target ports', async () => {
    h.store.create('services', 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc' },
      spec: { selector: { app: 'ep' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] },
    });
    const mk = (name: string, probe: string) =>
      h.store.create('pods', 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: 'ep' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: 'x', command: ['sleep', '300'], ports: [{ name: 'web', containerPort: 8080 }], readinessProbe: { exec: { command: [probe] }, periodSeconds: 1 } }],
        },
      });
    mk('good', 'true');
    mk('bad', 'false');
    const ep = await waitFor(h.store, () => {
      const e = h.store.find('endpoints', 'default', 'svc');
      const s = e?.subsets?.[0];
      return s?.addresses?.length === 1 && s?.notReadyAddresses?.length === 1 && e;
    }, 'endpoints');
    // Each pod's own address (on the host network, a loopback address per pod: network/loopback.ts).
    const podIP = (name: string) => h.store.find('pods', 'default', name)?.status?.podIP;
    expect(podIP('good')).not.toBe(podIP('bad'));
    expect(ep.subsets).toEqual([
      {
        addresses: [{ ip: podIP('good'), nodeName: 'sandbox', targetRef: expect.objectContaining({ kind: 'Pod', name: 'good', namespace: 'default' }) }],
        notReadyAddresses: [{ ip: podIP('bad'), nodeName: 'sandbox', targetRef: expect.objectContaining({ kind: 'Pod', name: 'bad' }) }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
    h.store.delete('pods', 'default', 'good');
    await waitFor(h.store, () => !h.store.find('endpoints', 'default', 'svc')?.subsets?.[0]?.addresses, 'address removed');
  });

  it('restartPolicy OnFailure: the kubelet restarts, restarts count toward backoffLimit', async () => {
    const j = h.store.create('batch/jobs', 'default', job('onf', 'exit 4', { backoffLimit: 2 }, { restartPolicy: 'OnFailure' }));
    const done = await waitFor(h.store, () => {
      const x = h.store.get('batch/jobs', 'default', 'onf');
      return x.status?.conditions?.some((c: any) => c.type === 'Failed') && x;
    }, 'job failed');
    expect(done.status.conditions.map((c: any) => `${c.type}/${c.reason}`)).toEqual(['FailureTarget/BackoffLimitExceeded', 'Failed/BackoffLimitExceeded']);
    // One pod, restarted in place; it was deleted when the job failed.
    const created = eventsFor(h.store, 'default', 'onf').filter((e) => e.reason === 'SuccessfulCreate');
    expect(created).toHaveLength(1);
    expect(podsOf(h.store, 'default', j.metadata.uid!).length).toBeLessThanOrEqual(1);
  });

  it('ttlSecondsAfterFinished deletes the finished job and its pods', async () => {
    const j = h.store.create('batch/jobs', 'default', job('ttl', 'true', { ttlSecondsAfterFinished: 0 }));
    await waitFor(h.store, () => !h.store.find('batch/jobs', 'default', 'ttl'), 'job deleted');
    await waitFor(h.store, () => podsOf(h.store, 'default', j.metadata.uid!).length === 0, 'pods deleted');
  });

  it('a ReplicaSet replaces a deleted pod and adopts a matching orphan', async () => {
    h.store.create('pods', 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stray', labels: { app: 'rs' } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'x', command: ['sleep', '300'] }] },
    });
    const rs = h.store.create('apps/replicasets', 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'rs' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'rs' } },
        template: { metadata: { labels: { app: 'rs' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'x', command: ['sleep', '300'] }] } },
      },
    });
    await waitFor(h.store, () => h.store.get('apps/replicasets', 'default', 'rs').status?.readyReplicas === 2, 'ready');
    const stray = h.store.get('pods', 'default', 'stray');
    expect(stray.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: 'rs', uid: rs.metadata.uid, controller: true });
    expect(podsOf(h.store, 'default', rs.metadata.uid!)).toHaveLength(2);
    h.store.delete('pods', 'default', 'stray');
    const st = await waitFor(h.store, () => {
      const x = h.store.get('apps/replicasets', 'default', 'rs');
      return !h.store.find('pods', 'default', 'stray') && x.status?.availableReplicas === 2 && x;
    }, 'replacement');
    expect(st.status).toMatchObject({ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
  });
});

describe('job suspension', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });
  it('a suspended job runs no pods until resumed, with Suspended conditions', async () => {
    const j = h.store.create('batch/jobs', 'default', job('sus', 'echo done', { suspend: true }));
    const s = await waitFor(h.store, () => {
      const x = h.store.get('batch/jobs', 'default', 'sus');
      return x.status?.conditions?.some((c: any) => c.type === 'Suspended' && c.status === 'True') && x;
    }, 'Suspended');
    expect(s.status.conditions[0]).toMatchObject({ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' });
    expect(s.status.startTime).toBeUndefined();
    expect(podsOf(h.store, 'default', j.metadata.uid!)).toHaveLength(0);
    h.store.patch('batch/jobs', 'default', 'sus', 'merge', { spec: { suspend: false } });
    const done = await waitFor(h.store, () => {
      const x = h.store.get('batch/jobs', 'default', 'sus');
      return x.status?.conditions?.some((c: any) => c.type === 'Complete') && x;
    }, 'Complete');
    expect(done.status.conditions.map((c: any) => `${c.type}/${c.status}/${c.reason}`)).toEqual([
      'Suspended/False/JobResumed',
      'SuccessCriteriaMet/True/CompletionsReached',
      'Complete/True/CompletionsReached',
    ]);
    expect(done.status.startTime).toBeTruthy();
  });
});

describe('job deletion', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });
  it('deleting a job without a policy orphans its pods (batch/v1 default) and they lose the tracking finalizer', async () => {
    const j = h.store.create('batch/jobs', 'default', job('orph', 'sleep 300'));
    const pod = await waitFor(h.store, () => podsOf(h.store, 'default', j.metadata.uid!).find((p) => p.status?.phase === 'Running'), 'pod running');
    expect(pod.metadata.finalizers).toContain('batch.kubernetes.io/job-tracking');
    h.store.delete('batch/jobs', 'default', 'orph');
    const orphan = await waitFor(h.store, () => {
      const p = h.store.find('pods', 'default', pod.metadata.name!);
      return p && !p.metadata.ownerReferences?.length && !(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking') && p;
    }, 'orphaned pod without finalizer');
    expect(orphan.status.phase).toBe('Running');
    h.store.delete('pods', 'default', pod.metadata.name!);
    await waitFor(h.store, () => !h.store.find('pods', 'default', pod.metadata.name!), 'pod deleted');
  });
  it('deleting a job with Background propagation removes its running pods', async () => {
    const j = h.store.create('batch/jobs', 'default', job('bg', 'sleep 300'));
    await waitFor(h.store, () => podsOf(h.store, 'default', j.metadata.uid!).some((p) => p.status?.phase === 'Running'), 'pod running');
    h.store.delete('batch/jobs', 'default', 'bg', { propagationPolicy: 'Background' });
    await waitFor(h.store, () => podsOf(h.store, 'default', j.metadata.uid!).length === 0, 'pods gone');
  });
});
