/** A rollout's judgement from what the waiter has seen (judgeRollout, rolloutTimeout), without a cluster. */
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { judgeRollout, rolloutTimeout, type RolloutView } from '../../../src/engine/deploy/rollout-wait.js';

const UID = 'uid-web';

function deployment(status: V1Deployment['status'], o: { generation?: number; replicas?: number; revision?: string } = {}): V1Deployment {
  return {
    metadata: { name: 'web', uid: UID, generation: o.generation ?? 2, annotations: { 'deployment.kubernetes.io/revision': o.revision ?? '2' } },
    spec: { replicas: o.replicas ?? 2, selector: {}, template: {} },
    status: { observedGeneration: 2, ...status },
  };
}

function replicaSet(revision: string, hash: string, owner = UID): V1ReplicaSet {
  return {
    metadata: { name: `web-${hash}`, labels: { 'pod-template-hash': hash }, annotations: { 'deployment.kubernetes.io/revision': revision }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner, controller: true }] },
  };
}

const ready = (name: string): V1Pod => ({ metadata: { name }, status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] } });
const starting = (name: string): V1Pod => ({ metadata: { name }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] } });
const crashing = (name: string): V1Pod => ({
  metadata: { name },
  status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } }] },
});

const rollingOut = { updatedReplicas: 2, replicas: 2, availableReplicas: 1 };
const rolledOut = { updatedReplicas: 2, replicas: 2, availableReplicas: 2 };
const sets = [replicaSet('1', 'old'), replicaSet('2', 'new'), replicaSet('3', 'foreign', 'uid-other')];

function view(o: Partial<RolloutView> = {}): RolloutView {
  return { name: 'web', deployment: deployment(rollingOut), deploymentSeen: true, replicaSets: sets, pods: { hash: 'new', synced: true, items: [ready('a'), starting('b')] }, ...o };
}

describe('judgeRollout', () => {
  it('waits, with nothing to say, until the Deployment is seen; fails once a list no longer has it', () => {
    expect(judgeRollout(view({ deployment: undefined, deploymentSeen: false }))).toEqual({});
    expect(judgeRollout(view({ deployment: undefined }))).toEqual({ outcome: { kind: 'failed', reason: 'Deployment web was deleted during the rollout', pods: [] } });
  });

  it("names the new ReplicaSet's hash (the one it controls with its revision) and counts its ready pods once they are all known", () => {
    expect(judgeRollout(view())).toEqual({ newHash: 'new', ready: { ready: 1, desired: 2 } });
    // Pods of another ReplicaSet's watch, or not yet listed: no count.
    expect(judgeRollout(view({ pods: { hash: 'old', synced: true, items: [ready('a')] } }))).toEqual({ newHash: 'new' });
    expect(judgeRollout(view({ pods: { hash: 'new', synced: false, items: [] } }))).toEqual({ newHash: 'new' });
    // A generation the controller has not observed yet has no new ReplicaSet.
    expect(judgeRollout(view({ deployment: deployment(rollingOut, { generation: 3 }) }))).toEqual({});
  });

  it('fails fast on a new pod that cannot become ready, before counting', () => {
    const pod = crashing('b');
    const judged = judgeRollout(view({ pods: { hash: 'new', synced: true, items: [ready('a'), pod] } }));
    expect(judged.ready).toBeUndefined();
    expect(judged.outcome).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/^pod b: CrashLoopBackOff: /), pods: [pod] });
  });

  it("fails on the controller's ReplicaFailure and on the progress deadline (with the pods not ready), completes when rolled out", () => {
    const quota = deployment({ ...rollingOut, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'exceeded  quota' }] });
    expect(judgeRollout(view({ deployment: quota })).outcome).toEqual({ kind: 'failed', reason: 'ReplicaFailure (FailedCreate): exceeded quota', deployment: quota, pods: [] });
    const stuck = deployment({ ...rollingOut, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] });
    expect(judgeRollout(view({ deployment: stuck })).outcome).toEqual({ kind: 'failed', reason: 'deployment "web" exceeded its progress deadline', deployment: stuck, pods: [starting('b')] });
    const done = deployment(rolledOut);
    expect(judgeRollout(view({ deployment: done }))).toEqual({
      newHash: 'new',
      ready: { ready: 1, desired: 2 },
      outcome: { kind: 'complete', deployment: done, message: 'deployment "web" successfully rolled out' },
    });
  });
});

describe('rolloutTimeout', () => {
  it('says where the rollout stood and why the first pod not ready is not', () => {
    expect(rolloutTimeout(view(), 90_000)).toEqual({
      kind: 'timeout',
      reason: 'Deployment web did not finish within 90 s: 1 of 2 updated replicas are available; pending: containers are being created',
      deployment: view().deployment,
      pods: [starting('b')],
    });
    expect(rolloutTimeout(view({ deployment: undefined, deploymentSeen: false, pods: { synced: false, items: [] } }), 1_400, 'the rollback of Deployment web').reason).toBe(
      'the rollback of Deployment web did not finish within 1 s: Deployment "web" not seen',
    );
  });
});
