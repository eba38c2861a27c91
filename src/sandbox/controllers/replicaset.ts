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
import type { Clock } from '../machinery/clock.js';
import { QueueController } from '../machinery/controller.js';
import type { LogFn } from '../machinery/log.js';
import { deepEqual, keyOf, splitKey } from '../machinery/objects.js';
import { claimObjects, controllersOf, controllerRef } from '../machinery/owners.js';
import { isPodActive, isPodAvailable, isPodReady, podCondition, podFromTemplate } from '../machinery/pods.js';
import { nowRFC3339, parseTime } from '../machinery/time.js';

export interface ReplicaSetControllerOptions {
  events: EventRecorder;
  log?: LogFn;
  /** Pods created/deleted per sync at most (upstream burstReplicas 500). */
  burstReplicas?: number;
  /** Time for availability (minReadySeconds) and conditions (default the system clock). */
  clock?: Clock;
}

type Failure = { reason: string; message: string } | undefined;

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

export class ReplicaSetController extends QueueController {
  private readonly burst: number;

  constructor(
    store: ClusterStore,
    private readonly opts: ReplicaSetControllerOptions,
  ) {
    super(store, SOURCE, opts);
    this.burst = opts.burstReplicas ?? 500;
  }

  protected initialKeys(): string[] {
    return this.store.view('apps/replicasets', undefined).map(keyOf);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Event handlers

  protected handle(ev: StoreEvent): void {
    if (ev.key === 'apps/replicasets') {
      if (ev.type !== 'DELETED') this.queue.add(keyOf(ev.object));
    } else if (ev.key === 'pods') this.onPod(ev);
  }

  /** updatePod: the pod's ReplicaSets, and its former ones when its controller or labels changed. */
  private onPod(ev: StoreEvent): void {
    this.enqueueForPod(ev.object);
    const oldRef = ev.old && controllerRef(ev.old);
    if (ev.old && (oldRef?.uid !== controllerRef(ev.object)?.uid || !deepEqual(ev.old.metadata.labels, ev.object.metadata.labels))) this.enqueueForPod(ev.old);
  }

  private enqueueForPod(pod: KubeObject): void {
    for (const key of controllersOf(this.store, pod, 'ReplicaSet', 'apps/replicasets')) this.queue.add(key);
  }

  // -------------------------------------------------------------------------------------------------------------

  /** syncReplicaSet. */
  protected sync(key: string): void {
    const [ns, name] = splitKey(key);
    const rs = this.store.peek('apps/replicasets', ns, name);
    if (!rs) return;
    const allPods = this.store.view('pods', ns).filter((p) => isPodActive(p));
    const pods = claimObjects(this.store, 'pods', rs, rs.spec?.selector, allPods);
    const failure = rs.metadata.deletionTimestamp ? undefined : this.manageReplicas(rs, pods);
    this.updateStatus(rs, failure);
  }

  /** manageReplicas: create or delete pods toward spec.replicas, at most `burst` per sync. */
  private manageReplicas(rs: KubeObject, pods: KubeObject[]): Failure {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) return this.createPods(rs, Math.min(-diff, this.burst));
    if (diff > 0) return this.deletePods(rs, [...pods].sort(deletionOrder).slice(0, Math.min(diff, this.burst)));
    return undefined;
  }

  private createPods(rs: KubeObject, n: number): Failure {
    const ns = rs.metadata.namespace;
    for (let i = 0; i < n; i++) {
      try {
        const pod = this.store.create('pods', ns, podFromTemplate(rs.spec.template, rs, `${rs.metadata.name}-`));
        this.opts.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
      } catch (err) {
        this.opts.events.record(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`, SOURCE);
        return { reason: 'FailedCreate', message: errorMessage(err) };
      }
    }
    return undefined;
  }

  private deletePods(rs: KubeObject, victims: KubeObject[]): Failure {
    let failure: Failure;
    for (const p of victims) {
      try {
        this.store.delete('pods', rs.metadata.namespace, p.metadata.name!);
        this.opts.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, SOURCE);
      } catch (err) {
        if (isNotFound(err)) continue;
        this.opts.events.record(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`, SOURCE);
        failure = { reason: 'FailedDelete', message: errorMessage(err) };
      }
    }
    return failure;
  }

  /** calculateStatus + updateReplicaSetStatus; a pod not yet available for minReadySeconds wakes the sync then. */
  private updateStatus(rs: KubeObject, failure: Failure): void {
    const ns = rs.metadata.namespace!;
    const now = this.clock.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const pods = this.store
      .view('pods', ns)
      .filter((p) => isPodActive(p) && controllerRef(p)?.uid === rs.metadata.uid && selectorMatches(rs.spec?.selector, p.metadata.labels));
    const tmplLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
    let fully = 0;
    let ready = 0;
    let available = 0;
    let nextCheck: number | undefined;
    for (const p of pods) {
      if (Object.entries(tmplLabels).every(([k, v]) => p.metadata.labels?.[k] === v)) fully++;
      if (!isPodReady(p)) continue;
      ready++;
      if (isPodAvailable(p, minReady, now)) available++;
      else {
        const t = (parseTime(podCondition(p, 'Ready')?.lastTransitionTime) ?? now) + minReady * 1000 - now;
        nextCheck = Math.min(nextCheck ?? t, t);
      }
    }
    const status: any = { replicas: pods.length, fullyLabeledReplicas: fully, readyReplicas: ready, availableReplicas: available, observedGeneration: rs.metadata.generation };
    const conditions = this.conditions(rs, pods.length, failure, now);
    if (conditions.length) status.conditions = conditions;
    // The real server omits zero counts (omitempty); replicas is always present.
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) if (status[k] === 0) delete status[k];
    if (!deepEqual(rs.status ?? {}, status)) {
      const cur = this.store.find('apps/replicasets', ns, rs.metadata.name!);
      if (cur && cur.metadata.uid === rs.metadata.uid) {
        cur.status = status;
        this.store.update('apps/replicasets', ns, rs.metadata.name!, cur, { subresource: 'status' });
      }
    }
    if (nextCheck !== undefined) this.queue.addAfter(keyOf(rs), nextCheck + 5);
  }

  /** ReplicaFailure (replica_set_utils.go calculateStatus): set on a failed create/delete, kept until the count is right. */
  private conditions(rs: KubeObject, count: number, failure: Failure, now: number): any[] {
    const old = rs.status ?? {};
    const conds: any[] = (old.conditions ?? []).filter((c: any) => c.type !== 'ReplicaFailure');
    const prevFailure = (old.conditions ?? []).find((c: any) => c.type === 'ReplicaFailure');
    if (failure) conds.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: prevFailure?.lastTransitionTime ?? nowRFC3339(now), reason: failure.reason, message: failure.message });
    else if (prevFailure && count !== (rs.spec?.replicas ?? 1)) conds.push(prevFailure);
    return conds;
  }
}
