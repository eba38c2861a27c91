import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/sandbox/types.js';
import { eventsFor, startHarness, waitFor, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  if (h.logs.length) console.log(h.logs.join("\n"));
  await h.stop();
});

function deployment(name: string, replicas: number, extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      ...extra,
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'web',
              image: 'python:3.12-slim',
              command: ['sh', '-c', 'echo serving; exec sleep 300'],
              readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
              ...container,
            },
          ],
        },
      },
    },
  };
}

/** kubectl rollout status (KC pkg/polymorphichelpers/rollout_status.go DeploymentStatusViewer). */
function rolloutStatus(d: KubeObject): { done: boolean; msg: string; error?: boolean } {
  const st = d.status ?? {};
  if ((d.metadata.generation ?? 0) <= (st.observedGeneration ?? 0)) {
    const prog = (st.conditions ?? []).find((c: any) => c.type === 'Progressing');
    if (prog?.reason === 'ProgressDeadlineExceeded') return { done: true, error: true, msg: `deployment "${d.metadata.name}" exceeded its progress deadline` };
    if (d.spec.replicas !== undefined && (st.updatedReplicas ?? 0) < d.spec.replicas) return { done: false, msg: 'new replicas pending' };
    if ((st.replicas ?? 0) > (st.updatedReplicas ?? 0)) return { done: false, msg: 'old replicas pending termination' };
    if ((st.availableReplicas ?? 0) < (st.updatedReplicas ?? 0)) return { done: false, msg: 'updated replicas not available' };
    return { done: true, msg: `deployment "${d.metadata.name}" successfully rolled out` };
  }
  return { done: false, msg: 'Waiting for deployment spec update to be observed...' };
}

const get = (name: string) => h.store.get('apps/deployments', 'default', name);
const rsOf = (d: KubeObject) =>
  h.store.list('apps/replicasets', 'default').items.filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid && r.controller));
const cond = (o: KubeObject, type: string) => (o.status?.conditions ?? []).find((c: any) => c.type === type);

async function waitRolledOut(name: string): Promise<KubeObject> {
  return waitFor(h.store, () => {
    const d = get(name);
    const s = rolloutStatus(d);
    if (s.error) throw new Error(s.msg);
    return s.done && d;
  }, `rollout of ${name}`);
}

describe('deployment controller', () => {
  it('rolls out, rolls to a new template, and rolls back to the old ReplicaSet with a bumped revision', async () => {
    h.store.create('apps/deployments', 'default', deployment('web', 2));
    let d = await waitRolledOut('web');
    expect(d.status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
    expect(d.status.unavailableReplicas).toBeUndefined();
    expect(cond(d, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
    let sets = rsOf(d);
    expect(sets).toHaveLength(1);
    const rs1 = sets[0];
    const hash1 = rs1.metadata.labels!['pod-template-hash'];
    expect(rs1.metadata.name).toBe(`web-${hash1}`);
    expect(hash1).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(rs1.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash1 });
    expect(rs1.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '2',
      'deployment.kubernetes.io/max-replicas': '3',
    });
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(cond(d, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "web-${hash1}" has successfully progressed.` });
    const pods = h.store.list('pods', 'default', { labelSelector: 'app=web' }).items;
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata.labels!['pod-template-hash']).toBe(hash1);
      expect(p.metadata.name).toMatch(new RegExp(`^web-${hash1}-[a-z0-9]{5}$`));
    }

    // Template change: a new RS with revision 2, the old one scaled to 0.
    const tmpl = structuredClone(d.spec.template);
    tmpl.spec.containers[0].env = [{ name: 'VERSION', value: '2' }];
    h.store.patch('apps/deployments', 'default', 'web', 'merge', { spec: { template: tmpl } });
    d = await waitRolledOut('web');
    expect(d.status.observedGeneration).toBe(2);
    sets = rsOf(d);
    expect(sets).toHaveLength(2);
    const rs2 = sets.find((s) => s.metadata.uid !== rs1.metadata.uid)!;
    expect(rs2.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('2');
    expect(rs2.spec.replicas).toBe(2);
    expect(h.store.get('apps/replicasets', 'default', rs1.metadata.name!).spec.replicas).toBe(0);
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    await waitFor(h.store, () => h.store.list('pods', 'default', { labelSelector: `pod-template-hash=${hash1}` }).items.length === 0, 'old pods gone');
    const scaling = eventsFor(h.store, 'default', 'web').filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message);
    expect(scaling).toContain(`Scaled up replica set ${rs2.metadata.name} from 0 to 1`);
    expect(scaling.some((m) => m.startsWith(`Scaled down replica set ${rs1.metadata.name} from 2 to`))).toBe(true);

    // kubectl rollout undo: JSON patch of the template (minus pod-template-hash) from revision 1.
    const back = structuredClone(h.store.get('apps/replicasets', 'default', rs1.metadata.name!).spec.template);
    delete back.metadata.labels['pod-template-hash'];
    h.store.patch('apps/deployments', 'default', 'web', 'json', [{ op: 'replace', path: '/spec/template', value: back }]);
    d = await waitRolledOut('web');
    sets = rsOf(d);
    expect(sets).toHaveLength(2); // the old RS was reused, not a third one
    const reused = h.store.get('apps/replicasets', 'default', rs1.metadata.name!);
    expect(reused.spec.replicas).toBe(2);
    expect(reused.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect(h.store.get('apps/replicasets', 'default', rs2.metadata.name!).spec.replicas).toBe(0);
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(cond(d, 'Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rs1.metadata.name}" has successfully progressed.` });
  });

  it('scales without a new ReplicaSet', async () => {
    h.store.create('apps/deployments', 'default', deployment('scale', 1));
    await waitRolledOut('scale');
    h.store.patch('apps/deployments', 'default', 'scale', 'merge', { spec: { replicas: 3 } });
    const d = await waitRolledOut('scale');
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    expect(rsOf(d)).toHaveLength(1);
    expect(rsOf(d)[0].metadata.annotations!['deployment.kubernetes.io/desired-replicas']).toBe('3');
  });

  it('a deployment whose pods never become ready ends ProgressDeadlineExceeded', async () => {
    h.store.create(
      'apps/deployments',
      'default',
      deployment('stuck', 1, { progressDeadlineSeconds: 2 }, { readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1 } }),
    );
    const d = await waitFor(h.store, () => {
      const x = get('stuck');
      return cond(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded' && x;
    }, 'ProgressDeadlineExceeded');
    const rs = rsOf(d)[0];
    expect(cond(d, 'Progressing')).toMatchObject({ status: 'False', message: `ReplicaSet "${rs.metadata.name}" has timed out progressing.` });
    expect(cond(d, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(rolloutStatus(d)).toMatchObject({ error: true, msg: 'deployment "stuck" exceeded its progress deadline' });
    expect(d.status.unavailableReplicas).toBe(1);
    const unhealthy = eventsFor(h.store, 'default', '').length; // silence unused
    void unhealthy;
  });

  it('Recreate scales the old ReplicaSet to zero before creating the new one', async () => {
    h.store.create('apps/deployments', 'default', deployment('rec', 2, { strategy: { type: 'Recreate' } }));
    let d = await waitRolledOut('rec');
    const old = rsOf(d)[0];
    const tmpl = structuredClone(d.spec.template);
    tmpl.metadata.annotations = { bump: '1' };
    h.store.patch('apps/deployments', 'default', 'rec', 'merge', { spec: { template: tmpl } });
    // While any old pod exists, no new pod may exist.
    let overlap = false;
    const unsub = h.store.subscribe(() => {
      const pods = h.store.list('pods', 'default', { labelSelector: 'app=rec' }).items.filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
      const hashes = new Set(pods.map((p) => p.metadata.labels!['pod-template-hash']));
      if (hashes.size > 1) overlap = true;
    });
    d = await waitRolledOut('rec');
    unsub();
    expect(overlap).toBe(false);
    expect(h.store.get('apps/replicasets', 'default', old.metadata.name!).spec.replicas).toBe(0);
    expect(d.status).toMatchObject({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
  });
});
