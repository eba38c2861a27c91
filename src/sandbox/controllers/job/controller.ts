/**
 * Job controller (K pkg/controller/job/job_controller.go syncJob, its event handlers) and, for finished Jobs, the
 * TTL-after-finished rule (ttl.ts). One sync: claim pods, count the finished ones (tracking.ts), suspension and the
 * terminal conditions (conditions.ts), pods to create or delete (manage.ts, with back-off.ts), then the status, then
 * the tracking finalizers. Time is the injected clock's.
 */
import { errorMessage } from '../../../engine/errors.js';
import type { Clock } from '../../machinery/clock.js';
import { QueueController } from '../../machinery/controller.js';
import { selectorMatches } from '../../machinery/labels.js';
import type { LogFn } from '../../machinery/log.js';
import { clone, deepEqual, keyOf, splitKey } from '../../machinery/objects.js';
import { claimObjects, controllerRef } from '../../machinery/owners.js';
import { isPodActive, isPodReady } from '../../machinery/pods.js';
import { nowRFC3339 } from '../../machinery/time.js';
import type { ClusterStore, EventRecorder, KubeObject, StoreEvent } from '../../types.js';
import { newBackoffRecord, type BackoffPolicy, type BackoffRecord } from './backoff.js';
import { enactFinished, finishingCondition, isJobFinished, syncSuspension } from './conditions.js';
import { deletePod, manageJob } from './manage.js';
import { SOURCE, type JobEnv, type JobSync } from './state.js';
import { countFinishedPods, hasTrackingFinalizer, isTerminating, removeTrackingFinalizer } from './tracking.js';
import { expireFinishedJob } from './ttl.js';

export interface JobControllerOptions {
  events: EventRecorder;
  log?: LogFn;
  /** Pod failure back-off base (upstream DefaultJobPodFailureBackOff 10 s). */
  jobBackoffBaseMs?: number;
  /** Pod failure back-off cap (upstream MaxJobPodFailureBackOff 10 min). */
  jobBackoffMaxMs?: number;
  /** Time for conditions, the active deadline, back-offs and TTLs (default the system clock). */
  clock?: Clock;
}

export class JobController extends QueueController implements JobEnv {
  private readonly policy: BackoffPolicy;
  private readonly backoffs = new Map<string, BackoffRecord>();
  /** Pods already counted into each Job's status (by uid). */
  private readonly counted = new Map<string, Set<string>>();

  constructor(
    store: ClusterStore,
    private readonly opts: JobControllerOptions,
  ) {
    super(store, SOURCE, opts);
    this.policy = { baseMs: opts.jobBackoffBaseMs ?? 10_000, maxMs: opts.jobBackoffMaxMs ?? 600_000 };
  }

  protected initialKeys(): string[] {
    return this.store.view('batch/jobs', undefined).map(keyOf);
  }

  event(job: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.opts.events.record(job, type, reason, message, SOURCE);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Event handlers

  protected handle(ev: StoreEvent): void {
    if (ev.key === 'batch/jobs') this.onJob(ev);
    else if (ev.key === 'pods') {
      if (controllerRef(ev.object)?.kind === 'Job') this.onJobPod(ev);
      else if (!controllerRef(ev.object) && ev.type !== 'DELETED') this.onOrphanPod(ev.object);
    }
  }

  private onJob(ev: StoreEvent): void {
    const key = keyOf(ev.object);
    if (ev.type !== 'DELETED') this.queue.add(key);
    else this.forget(key);
  }

  private onJobPod(ev: StoreEvent): void {
    const ref = controllerRef(ev.object)!;
    const ns = ev.object.metadata.namespace;
    if (this.store.peek('batch/jobs', ns, ref.name)?.metadata.uid === ref.uid) this.queue.add(`${ns}/${ref.name}`);
    // The owning job is gone: nobody else will ever remove the finalizer.
    else if (ev.type !== 'DELETED' && hasTrackingFinalizer(ev.object)) this.releaseLater(ev.object);
  }

  /** A pod without controller: the Jobs that may adopt it sync; syncOrphanPod when none can. */
  private onOrphanPod(pod: KubeObject): void {
    let adoptable = false;
    for (const j of this.store.view('batch/jobs', pod.metadata.namespace))
      if (selectorMatches(j.spec?.selector, pod.metadata.labels) && !isJobFinished(j) && !j.metadata.deletionTimestamp) {
        adoptable = true;
        this.queue.add(keyOf(j));
      }
    // An orphaned pod (job deleted with orphan propagation) that no job can adopt loses the tracking finalizer, or
    // it could never be deleted.
    if (!adoptable && hasTrackingFinalizer(pod)) this.releaseLater(pod);
  }

  /** Removes the tracking finalizer outside the store's event delivery. */
  private releaseLater(pod: KubeObject): void {
    setImmediate(() => {
      try {
        removeTrackingFinalizer(this, pod);
      } catch (err) {
        this.log?.(`job-controller: orphan finalizer ${pod.metadata.name}: ${errorMessage(err)}`);
      }
    });
  }

  private forget(key: string): void {
    this.backoffs.delete(key);
    this.counted.delete(key);
  }

  // -------------------------------------------------------------------------------------------------------------

  /** syncJob. */
  protected sync(key: string): void {
    const [ns, name] = splitKey(key);
    const job = this.store.peek('batch/jobs', ns, name);
    if (!job) return this.forget(key);
    const all = this.store.view('pods', ns);
    // Finished or being deleted: release the pods' finalizers (orphaned ones included), nothing else.
    const owned = all.filter((p) => controllerRef(p)?.uid === job.metadata.uid);
    if (isJobFinished(job)) {
      for (const p of owned) if (!isPodActive(p)) removeTrackingFinalizer(this, p);
      return this.expire(job);
    }
    if (job.metadata.deletionTimestamp) {
      for (const p of owned) removeTrackingFinalizer(this, p);
      return;
    }
    // ClaimPods: every pod it created (matching or not) and adopted orphans that match.
    const pods = claimObjects(this.store, 'pods', job, job.spec?.selector, all, { release: false });
    const s = this.begin(job, pods);
    const bo = this.backoffs.get(key) ?? newBackoffRecord();
    countFinishedPods(s, this.seen(key), bo);
    this.backoffs.set(key, bo);
    s.active = pods.filter(isPodActive);
    s.terminating = pods.filter(isTerminating);
    syncSuspension(this, s);
    const interim = finishingCondition(s);
    if (interim) {
      // Finishing: no new pods; remove what still runs, then the final condition once nothing terminates.
      for (const p of s.active) deletePod(this, job, p);
      if (s.active.length + s.terminating.length === 0) enactFinished(this, s, interim);
    } else if (job.spec?.suspend === true) {
      for (const p of s.active) deletePod(this, job, p);
    } else manageJob(this, s, bo, this.policy);
    // Status first, then finalizers: a pod must be counted before it may disappear.
    if (!this.writeStatus(s)) return;
    for (const p of s.toRelease) removeTrackingFinalizer(this, p);
    if (s.nextWake !== undefined) this.queue.addAfter(key, s.nextWake + 5);
    if (s.conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) this.expire(this.store.peek('batch/jobs', ns, name) ?? job);
  }

  private begin(job: KubeObject, pods: KubeObject[]): JobSync {
    const now = this.clock.now();
    const status: any = clone(job.status ?? {});
    if (!status.startTime && !job.spec?.suspend) status.startTime = nowRFC3339(now);
    return { job, now, status, conditions: [...(status.conditions ?? [])], pods, active: [], terminating: [], toRelease: [], newFailed: 0 };
  }

  private seen(key: string): Set<string> {
    const seen = this.counted.get(key) ?? new Set<string>();
    this.counted.set(key, seen);
    return seen;
  }

  /** Writes the status from the pods as they are now; false when the Job is gone or replaced. */
  private writeStatus(s: JobSync): boolean {
    const { job, status } = s;
    const ns = job.metadata.namespace!;
    const name = job.metadata.name!;
    const ours = this.store.view('pods', ns).filter((p) => controllerRef(p)?.uid === job.metadata.uid);
    const stillActive = ours.filter(isPodActive);
    status.active = stillActive.length;
    status.ready = stillActive.filter(isPodReady).length;
    status.terminating = ours.filter(isTerminating).length;
    status.uncountedTerminatedPods = {};
    status.conditions = s.conditions;
    // omitempty int32s of batch/v1 JobStatus (ready and terminating are pointers: kept at 0).
    for (const k of ['active', 'succeeded', 'failed']) if (status[k] === 0) delete status[k];
    if (!status.conditions.length) delete status.conditions;
    if (deepEqual(job.status ?? {}, status)) return true;
    const cur = this.store.find('batch/jobs', ns, name);
    if (!cur || cur.metadata.uid !== job.metadata.uid) return false;
    cur.status = status;
    this.store.update('batch/jobs', ns, name, cur, { subresource: 'status' });
    return true;
  }

  /** The TTL-after-finished rule, woken again when the TTL runs out. */
  private expire(job: KubeObject): void {
    const left = expireFinishedJob(this, job);
    if (left !== undefined) this.queue.addAfter(keyOf(job), left + 5);
  }
}
