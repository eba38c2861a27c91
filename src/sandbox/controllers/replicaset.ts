/**
 * ReplicaSet controller (K pkg/controller/replicaset/replica_set.go, replica_set_utils.go;
 * K pkg/controller/controller_utils.go ActivePodsWithRanks, K pkg/controller/controller_ref_manager.go).
 *
 * Keeps `spec.replicas` active pods (not terminal, not being deleted) matching the selector: adopts orphans,
 * releases controlled pods that stopped matching, creates from the template, deletes surplus pods ranked as
 * upstream getPodsToDelete does. The store is in-process and synchronous, so creations are visible at once and
 * no "expectations" bookkeeping is needed.
 */
import type { ClusterStore, EventRecorder, KubeObject, StoreEvent } from '../types.js';
import { errorMessage } from '../../engine/errors.js';
import { isNotFound } from '../machinery/errors.js';
import { selectorMatches } from '../machinery/labels.js';
import type { LogFn } from '../machinery/log.js';
import { deepEqual, splitKey } from '../machinery/objects.js';
import { claimObjects, controllersOf, controllerRef } from '../machinery/owners.js';
import { isPodActive, isPodAvailable, isPodReady, podCondition, podFromTemplate } from '../machinery/pods.js';
import { nowRFC3339, parseTime } from '../machinery/time.js';
import { WorkQueue } from '../machinery/workqueue.js';

export interface ReplicaSetControllerOptions {
  events: EventRecorder;
  log?: LogFn;
  /** Pods created/deleted per sync at most (upstream burstReplicas 500). */
  burstReplicas?: number;
}

const SOURCE = 'replicaset-controller';

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** K controller_utils.go ActivePodsWithRanks.Less: the pods to delete first sort first. */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const assigned = (p: KubeObject): number => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const pa = phaseRank[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = phaseRank[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  if (ra && rb) {
    // Ready for less time first.
    const ta = parseTime(podCondition(a, 'Ready')?.lastTransitionTime) ?? 0;
    const tb = parseTime(podCondition(b, 'Ready')?.lastTransitionTime) ?? 0;
    if (ta !== tb) return tb - ta;
  }
  const restarts = (p: KubeObject): number => Math.max(0, ...((p.status?.containerStatuses as any[]) ?? []).map((c) => c.restartCount ?? 0));
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const ca = parseTime(a.metadata.creationTimestamp) ?? 0;
  const cb = parseTime(b.metadata.creationTimestamp) ?? 0;
  return cb - ca;
}

export function startReplicaSetController(store: ClusterStore, opts: ReplicaSetControllerOptions): { stop(): Promise<void> } {
  const burst = opts.burstReplicas ?? 500;
  const queue: WorkQueue = new WorkQueue((key) => sync(key), { name: 'replicaset-controller', log: opts.log });

  function sync(key: string): void {
    const [ns, name] = splitKey(key);
    const rs = store.find('apps/replicasets', ns, name);
    if (!rs) return;
    const allPods = store.list('pods', ns).items.filter((p) => isPodActive(p));
    const pods = claimObjects(store, 'pods', rs, rs.spec?.selector, allPods);
    let failure: { reason: string; message: string } | undefined;
    if (!rs.metadata.deletionTimestamp) {
      const want = rs.spec?.replicas ?? 1;
      const diff = pods.length - want;
      if (diff < 0) {
        for (let i = 0; i < Math.min(-diff, burst); i++) {
          try {
            const pod = store.create('pods', ns, podFromTemplate(rs.spec.template, rs, `${name}-`));
            opts.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
          } catch (err) {
            opts.events.record(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`, SOURCE);
            failure = { reason: 'FailedCreate', message: errorMessage(err) };
            break;
          }
        }
      } else if (diff > 0) {
        const victims = [...pods].sort(deletionOrder).slice(0, Math.min(diff, burst));
        for (const p of victims) {
          try {
            store.delete('pods', ns, p.metadata.name!);
            opts.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, SOURCE);
          } catch (err) {
            if (isNotFound(err)) continue;
            opts.events.record(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`, SOURCE);
            failure = { reason: 'FailedDelete', message: errorMessage(err) };
          }
        }
      }
    }
    updateStatus(rs, failure);
  }

  function updateStatus(rs: KubeObject, failure: { reason: string; message: string } | undefined): void {
    const ns = rs.metadata.namespace!;
    const now = Date.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const pods = store
      .list('pods', ns)
      .items.filter((p) => isPodActive(p) && controllerRef(p)?.uid === rs.metadata.uid && selectorMatches(rs.spec?.selector, p.metadata.labels));
    const tmplLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
    let fully = 0;
    let ready = 0;
    let available = 0;
    let nextCheck: number | undefined;
    for (const p of pods) {
      if (Object.entries(tmplLabels).every(([k, v]) => p.metadata.labels?.[k] === v)) fully++;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, minReady, now)) available++;
        else {
          const t = (parseTime(podCondition(p, 'Ready')?.lastTransitionTime) ?? now) + minReady * 1000 - now;
          nextCheck = Math.min(nextCheck ?? t, t);
        }
      }
    }
    const old = rs.status ?? {};
    const status: any = { replicas: pods.length, fullyLabeledReplicas: fully, readyReplicas: ready, availableReplicas: available, observedGeneration: rs.metadata.generation };
    // ReplicaFailure condition (replica_set_utils.go calculateStatus).
    const conds: any[] = (old.conditions ?? []).filter((c: any) => c.type !== 'ReplicaFailure');
    const prevFailure = (old.conditions ?? []).find((c: any) => c.type === 'ReplicaFailure');
    if (failure) conds.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: prevFailure?.lastTransitionTime ?? nowRFC3339(), reason: failure.reason, message: failure.message });
    else if (prevFailure && pods.length !== (rs.spec?.replicas ?? 1)) conds.push(prevFailure);
    if (conds.length) status.conditions = conds;
    // The real server omits zero counts (omitempty); replicas is always present.
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) if (status[k] === 0) delete status[k];
    if (!deepEqual(old, status)) {
      const cur = store.find('apps/replicasets', ns, rs.metadata.name!);
      if (cur && cur.metadata.uid === rs.metadata.uid) {
        cur.status = status;
        store.update('apps/replicasets', ns, rs.metadata.name!, cur, { subresource: 'status' });
      }
    }
    if (nextCheck !== undefined) queue.addAfter(`${ns}/${rs.metadata.name}`, nextCheck + 5);
  }

  function enqueueForPod(pod: KubeObject): void {
    for (const key of controllersOf(store, pod, 'ReplicaSet', 'apps/replicasets')) queue.add(key);
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    if (ev.key === 'apps/replicasets') {
      if (ev.type !== 'DELETED') queue.add(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
    } else if (ev.key === 'pods') {
      enqueueForPod(ev.object);
      const oldRef = ev.old && controllerRef(ev.old);
      if (ev.old && (oldRef?.uid !== controllerRef(ev.object)?.uid || !deepEqual(ev.old.metadata.labels, ev.object.metadata.labels))) enqueueForPod(ev.old);
    }
  });
  for (const rs of store.list('apps/replicasets', undefined).items) queue.add(`${rs.metadata.namespace}/${rs.metadata.name}`);
  return {
    async stop() {
      unsubscribe();
      await queue.stop();
    },
  };
}
