/**
 * Fidelity scenarios of the controllers: Deployment and Job conditions, `rollout undo` revisions, garbage collection
 * with each propagation policy. Scenarios without `needsNode` keep their pods Pending (a node selector nothing has),
 * so they exercise the control plane alone.
 */
import type { RawApi } from './http.js';
import { conditions, deployment, job, NOWHERE, type Scenario } from './scenario.js';

const deps = (ns: string) => `/apis/apps/v1/namespaces/${ns}/deployments`;
const rss = (ns: string) => `/apis/apps/v1/namespaces/${ns}/replicasets`;
const jobs = (ns: string) => `/apis/batch/v1/namespaces/${ns}/jobs`;
const pods = (ns: string) => `/api/v1/namespaces/${ns}/pods`;

const hasCondition = (type: string, status: string, reason?: string) => (o: any) =>
  (o?.status?.conditions ?? []).some((c: any) => c.type === type && c.status === status && (reason === undefined || c.reason === reason));

/** Creates a Pending Deployment and waits for its ReplicaSet; answers the ReplicaSet's name. */
async function pendingDeploymentWithRs(api: RawApi, ns: string, name: string): Promise<string> {
  await api.post(deps(ns), deployment(ns, name, { pending: true }));
  await api.waitFor(deps(ns), name, (d) => (d.status?.observedGeneration ?? 0) >= 1 && (d.status?.replicas ?? 0) >= 1);
  const list = await api.get(`${rss(ns)}?labelSelector=app=${name}`);
  return list.body.items[0].metadata.name;
}

async function gcScenario(api: RawApi, ns: string, policy: 'Background' | 'Foreground' | 'Orphan'): Promise<Record<string, unknown>> {
  const rs = await pendingDeploymentWithRs(api, ns, 'gc');
  const del = await api.del(`${deps(ns)}/gc`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy });
  const out: Record<string, unknown> = {
    'delete http': del.status,
    'finalizers in the answer': (del.body?.metadata?.finalizers ?? []).join(',') || '(none)',
    'deletionTimestamp in the answer': Boolean(del.body?.metadata?.deletionTimestamp),
  };
  await api.waitGone(deps(ns), 'gc');
  if (policy === 'Orphan') {
    const left = await api.get(`${rss(ns)}/${rs}`);
    out['ReplicaSet after'] = left.status === 200 ? 'kept' : `http ${left.status}`;
    out['its ownerReferences'] = (left.body?.metadata?.ownerReferences ?? []).length;
  } else {
    await api.waitGone(rss(ns), rs);
    out['ReplicaSet after'] = 'deleted';
  }
  return out;
}

export const workloadScenarios: Scenario[] = [
  {
    name: 'Deployment: ProgressDeadlineExceeded while pods stay Pending',
    run: async (api, ns) => {
      await api.post(deps(ns), deployment(ns, 'stuck', { pending: true, progressDeadlineSeconds: 2 }));
      const d = await api.waitFor(deps(ns), 'stuck', hasCondition('Progressing', 'False'), 60_000);
      return { conditions: conditions(d), replicas: d.status?.replicas, unavailable: d.status?.unavailableReplicas };
    },
  },
  {
    name: 'rollout undo: revisions and revision-history',
    run: async (api, ns, env) => {
      await pendingDeploymentWithRs(api, ns, 'undo');
      await api.mergePatch(`${deps(ns)}/undo`, { spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox:1.37' }] } } } });
      await api.waitFor(deps(ns), 'undo', (d) => d.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2');
      await env.kubectl(['rollout', 'undo', 'deployment/undo', '-n', ns]);
      const d = await api.waitFor(deps(ns), 'undo', (x) => x.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3');
      const list = await api.get(`${rss(ns)}?labelSelector=app=undo`);
      const byImage = list.body.items
        .map((r: any) => `${r.spec.template.spec.containers[0].image}: revision ${r.metadata.annotations?.['deployment.kubernetes.io/revision']}, history ${r.metadata.annotations?.['deployment.kubernetes.io/revision-history'] ?? '-'}`)
        .sort();
      return { 'deployment image': d.spec.template.spec.containers[0].image, 'replica sets': byImage.join('; ') };
    },
  },
  { name: 'garbage collection: Background', run: (api, ns) => gcScenario(api, ns, 'Background') },
  { name: 'garbage collection: Foreground', run: (api, ns) => gcScenario(api, ns, 'Foreground') },
  { name: 'garbage collection: Orphan', run: (api, ns) => gcScenario(api, ns, 'Orphan') },
  {
    name: 'Job deleted with no propagation policy orphans its pods (batch/v1 default)',
    run: async (api, ns) => {
      const j = job(ns, 'orphaned', { command: ['sh', '-c', 'exit 0'] });
      (j.spec.template.spec as any).nodeSelector = NOWHERE;
      await api.post(jobs(ns), j);
      const list = await waitForPods(api, ns, 'job-name=orphaned');
      await api.del(`${jobs(ns)}/orphaned`);
      await api.waitGone(jobs(ns), 'orphaned');
      const after = await api.get(`${pods(ns)}/${list[0]}`);
      return { 'pod after': after.status === 200 ? 'kept' : `http ${after.status}`, 'its ownerReferences': (after.body?.metadata?.ownerReferences ?? []).length };
    },
  },
  {
    name: 'Job: success conditions',
    needsNode: true,
    run: async (api, ns) => {
      await api.post(jobs(ns), job(ns, 'ok', { command: ['sh', '-c', 'exit 0'] }));
      const j = await api.waitFor(jobs(ns), 'ok', hasCondition('Complete', 'True'), 120_000);
      return { conditions: conditions(j), succeeded: j.status?.succeeded, failed: j.status?.failed ?? 0, active: j.status?.active ?? 0 };
    },
  },
  {
    name: 'Job: backoff limit exceeded',
    needsNode: true,
    run: async (api, ns) => {
      await api.post(jobs(ns), job(ns, 'fails', { command: ['sh', '-c', 'exit 3'], backoffLimit: 1 }));
      const j = await api.waitFor(jobs(ns), 'fails', hasCondition('Failed', 'True'), 180_000);
      return { conditions: conditions(j), failed: j.status?.failed, succeeded: j.status?.succeeded ?? 0 };
    },
  },
  {
    name: 'Job: activeDeadlineSeconds exceeded',
    needsNode: true,
    run: async (api, ns) => {
      await api.post(jobs(ns), job(ns, 'slow', { command: ['sh', '-c', 'exec sleep 120'], activeDeadlineSeconds: 3 }));
      const j = await api.waitFor(jobs(ns), 'slow', hasCondition('Failed', 'True'), 120_000);
      return { conditions: conditions(j), active: j.status?.active ?? 0 };
    },
  },
  {
    name: 'Deployment: a good rollout',
    needsNode: true,
    run: async (api, ns) => {
      await api.post(deps(ns), deployment(ns, 'good', { replicas: 2 }));
      const d = await api.waitFor(deps(ns), 'good', hasCondition('Progressing', 'True', 'NewReplicaSetAvailable'), 120_000);
      return { conditions: conditions(d), ready: d.status?.readyReplicas, available: d.status?.availableReplicas, revision: d.metadata?.annotations?.['deployment.kubernetes.io/revision'] };
    },
  },
  {
    name: 'Deployment: a crash-looping rollout',
    needsNode: true,
    run: async (api, ns) => {
      // Never ready (a failing readiness probe, as planned services have probes): a container that is Ready for an
      // instant before it crashes makes the outcome depend on whether a controller sync saw that instant.
      await api.post(deps(ns), deployment(ns, 'crashy', { command: ['sh', '-c', 'sleep 1; exit 2'], progressDeadlineSeconds: 10, neverReady: true }));
      const d = await api.waitFor(deps(ns), 'crashy', hasCondition('Progressing', 'False'), 120_000);
      const p = (await api.get(`${pods(ns)}?labelSelector=app=crashy`)).body.items[0];
      const cs = p?.status?.containerStatuses?.[0];
      return {
        conditions: conditions(d),
        'pod waiting reason': cs?.state?.waiting?.reason ?? (cs?.state?.terminated ? 'terminated' : 'running'),
        'last exit code': cs?.lastState?.terminated?.exitCode ?? cs?.state?.terminated?.exitCode,
      };
    },
  },
];

/** Waits for pods matching `selector`; answers their names. */
async function waitForPods(api: RawApi, ns: string, selector: string): Promise<string[]> {
  const coll = `${pods(ns)}?labelSelector=${encodeURIComponent(selector)}`;
  const list = await api.get(coll);
  if (list.body.items.length) return list.body.items.map((p: any) => p.metadata.name);
  const w = await api.watch(`${coll}&watch=true&resourceVersion=${list.body.metadata.resourceVersion}`);
  try {
    await w.until((e) => e.some((x) => x.type === 'ADDED'));
    return [w.events.find((x) => x.type === 'ADDED')!.object.metadata.name];
  } finally {
    w.close();
  }
}
