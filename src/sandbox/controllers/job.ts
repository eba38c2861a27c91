/**
 * Job controller (K pkg/controller/job/job_controller.go syncJob/manageJob/trackJobStatusAndRemoveFinalizers,
 * backoff_utils.go) and the TTL-after-finished controller (K pkg/controller/ttlafterfinished).
 *
 * Pods carry the `batch.kubernetes.io/job-tracking` finalizer; a finished pod is counted into succeeded/failed and
 * its finalizer removed in the same sync (upstream goes through status.uncountedTerminatedPods to survive crashes;
 * an in-process controller cannot crash between the two writes, so the field is always written empty).
 * Terminal conditions follow k8s >= 1.31: interim `SuccessCriteriaMet`/`FailureTarget` first, then `Complete`/`Failed`
 * with the same reason once no pod is terminating (enactJobFinished / delayTerminalCondition).
 */
import type { ClusterStore, EventRecorder, KubeObject, StoreEvent } from '../types.js';
import { errorMessage } from '../../engine/errors.js';
import { isNotFound } from '../machinery/errors.js';
import { selectorMatches } from '../machinery/labels.js';
import type { LogFn } from '../machinery/log.js';
import { clone, deepEqual, splitKey } from '../machinery/objects.js';
import { claimObjects, controllerRef } from '../machinery/owners.js';
import { isPodReady, podFromTemplate } from '../machinery/pods.js';
import { nowRFC3339, parseTime } from '../machinery/time.js';
import { WorkQueue } from '../machinery/workqueue.js';

export interface JobControllerOptions {
  events: EventRecorder;
  log?: LogFn;
  /** Pod failure back-off base (upstream DefaultJobPodFailureBackOff 10 s). */
  jobBackoffBaseMs?: number;
  /** Pod failure back-off cap (upstream MaxJobPodFailureBackOff 10 min). */
  jobBackoffMaxMs?: number;
}

const SOURCE = 'job-controller';
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

function condition(job: KubeObject, type: string): any {
  return (job.status?.conditions as any[] | undefined)?.find((c) => c.type === type && c.status === 'True');
}

export function isJobFinished(job: KubeObject): boolean {
  return !!(condition(job, 'Complete') || condition(job, 'Failed'));
}

interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime: number;
}

export function startJobController(store: ClusterStore, opts: JobControllerOptions): { stop(): Promise<void> } {
  const base = opts.jobBackoffBaseMs ?? 10_000;
  const max = opts.jobBackoffMaxMs ?? 600_000;
  const backoffs = new Map<string, BackoffRecord>();
  const counted = new Map<string, Set<string>>();
  const queue: WorkQueue = new WorkQueue((key) => sync(key), { name: 'job-controller', log: opts.log });
  const event = (j: KubeObject, type: 'Normal' | 'Warning', reason: string, msg: string): void => opts.events.record(j, type, reason, msg, SOURCE);

  function removeFinalizer(pod: KubeObject): void {
    if (!pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) return;
    try {
      const cur = store.find('pods', pod.metadata.namespace, pod.metadata.name!);
      if (!cur || cur.metadata.uid !== pod.metadata.uid) return;
      const rest = (cur.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
      store.patch('pods', pod.metadata.namespace, pod.metadata.name!, 'merge', { metadata: { finalizers: rest.length ? rest : null } }, { fieldManager: SOURCE });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  function deletePod(job: KubeObject, pod: KubeObject): void {
    try {
      store.delete('pods', pod.metadata.namespace, pod.metadata.name!);
      event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (err) {
      if (!isNotFound(err)) event(job, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
    }
  }

  /** job_controller.go isPodFailed, default pod replacement policy: a pod being deleted that did not succeed failed. */
  function podFailed(pod: KubeObject): boolean {
    if (pod.status?.phase === 'Failed') return true;
    return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
  }

  function finishTime(pod: KubeObject): number {
    let t: number | undefined;
    for (const cs of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
      const f = parseTime(cs.state?.terminated?.finishedAt);
      if (f !== undefined && (t === undefined || f > t)) t = f;
    }
    return t ?? parseTime(pod.metadata.deletionTimestamp) ?? Date.now();
  }

  function sync(key: string): void {
    const [ns, name] = splitKey(key);
    const job0 = store.find('batch/jobs', ns, name);
    if (!job0) {
      backoffs.delete(key);
      counted.delete(key);
      return;
    }
    const job = job0;
    const uid = job.metadata.uid!;
    const all = store.list('pods', ns).items;
    // Orphaned job pods still holding our finalizer (job deleted with orphan propagation): release them.
    const owned = all.filter((p) => controllerRef(p)?.uid === uid);
    if (isJobFinished(job)) {
      for (const p of owned) if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' || p.metadata.deletionTimestamp) removeFinalizer(p);
      handleTTL(job);
      return;
    }
    if (job.metadata.deletionTimestamp) {
      for (const p of owned) removeFinalizer(p);
      return;
    }
    // ClaimPods: every pod it created (matching or not) and adopted orphans that match.
    const pods = claimObjects(store, 'pods', job, job.spec?.selector, all, { release: false });

    const now = Date.now();
    const status: any = clone(job.status ?? {});
    if (!status.startTime && !job.spec?.suspend) status.startTime = nowRFC3339(now);
    const seen = counted.get(key) ?? new Set<string>();
    counted.set(key, seen);

    // Count finished pods and drop their tracking finalizers (trackJobStatusAndRemoveFinalizers).
    let newSucceeded = 0;
    let newFailed = 0;
    const toRelease: KubeObject[] = [];
    const bo = backoffs.get(key) ?? { failuresAfterLastSuccess: 0, lastFailureTime: 0 };
    for (const p of pods) {
      const succeeded = p.status?.phase === 'Succeeded';
      const failed = podFailed(p);
      if (!succeeded && !failed) continue;
      if (!p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER) || seen.has(p.metadata.uid!)) continue;
      seen.add(p.metadata.uid!);
      toRelease.push(p);
      if (succeeded) {
        newSucceeded++;
        bo.failuresAfterLastSuccess = 0;
      } else {
        newFailed++;
        bo.failuresAfterLastSuccess++;
        bo.lastFailureTime = Math.max(bo.lastFailureTime, finishTime(p));
      }
    }
    backoffs.set(key, bo);
    status.succeeded = (status.succeeded ?? 0) + newSucceeded;
    status.failed = (status.failed ?? 0) + newFailed;

    const active = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp);
    const terminating = pods.filter((p) => p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const completions: number | undefined = job.spec?.completions ?? undefined;
    const parallelism: number = job.spec?.parallelism ?? 1;
    const backoffLimit: number = job.spec?.backoffLimit ?? 6;
    let conditions: any[] = [...(status.conditions ?? [])];
    const setCond = (type: string, reason: string, message: string): void => {
      if (conditions.some((c) => c.type === type && c.status === 'True')) return;
      const t = nowRFC3339(now);
      conditions = [...conditions.filter((c) => c.type !== type), { type, status: 'True', lastProbeTime: t, lastTransitionTime: t, reason, message }];
    };

    // Suspension (syncJob): condition Suspended True/JobSuspended; resuming flips it to False/JobResumed and restarts
    // the active-deadline clock by resetting startTime.
    const suspended = job.spec?.suspend === true;
    const susCond = conditions.find((c) => c.type === 'Suspended');
    if (suspended && susCond?.status !== 'True') {
      const t = nowRFC3339(now);
      conditions = [...conditions.filter((c) => c.type !== 'Suspended'), { type: 'Suspended', status: 'True', lastProbeTime: t, lastTransitionTime: t, reason: 'JobSuspended', message: 'Job suspended' }];
      event(job, 'Normal', 'Suspended', 'Job suspended');
    } else if (!suspended && susCond?.status === 'True') {
      const t = nowRFC3339(now);
      conditions = conditions.map((c) => (c.type === 'Suspended' ? { ...c, status: 'False', lastProbeTime: t, lastTransitionTime: t, reason: 'JobResumed', message: 'Job resumed' } : c));
      status.startTime = t;
      event(job, 'Normal', 'Resumed', 'Job resumed');
    }

    let failureTarget = conditions.find((c) => c.type === 'FailureTarget' && c.status === 'True');
    let successCriteria = conditions.find((c) => c.type === 'SuccessCriteriaMet' && c.status === 'True');
    let nextWake: number | undefined;

    if (!failureTarget && !successCriteria) {
      // Failure decisions in syncJob order: backoff limit, then active deadline.
      let failReason: string | undefined;
      let failMessage = '';
      const restartPolicy = job.spec?.template?.spec?.restartPolicy;
      let restarts = 0;
      if (restartPolicy === 'OnFailure') {
        for (const p of active)
          for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += cs.restartCount ?? 0;
      }
      const pastOnFailure = restartPolicy === 'OnFailure' && (backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit);
      if ((newFailed > 0 && status.failed > backoffLimit) || pastOnFailure) {
        failReason = 'BackoffLimitExceeded';
        failMessage = 'Job has reached the specified backoff limit';
      } else if (!suspended && job.spec?.activeDeadlineSeconds !== undefined && job.spec?.activeDeadlineSeconds !== null && status.startTime) {
        const deadline = (parseTime(status.startTime) ?? now) + job.spec.activeDeadlineSeconds * 1000;
        if (now >= deadline) {
          failReason = 'DeadlineExceeded';
          failMessage = 'Job was active longer than specified deadline';
        } else nextWake = deadline - now;
      }
      if (failReason) {
        setCond('FailureTarget', failReason, failMessage);
        failureTarget = conditions.find((c) => c.type === 'FailureTarget');
      } else {
        const done = completions === undefined ? status.succeeded > 0 && active.length === 0 : status.succeeded >= completions;
        if (done) {
          setCond('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods');
          successCriteria = conditions.find((c) => c.type === 'SuccessCriteriaMet');
        }
      }
    }

    if (failureTarget || successCriteria) {
      // Finishing: no new pods; remove what still runs, then the final condition once nothing terminates.
      for (const p of active) deletePod(job, p);
      const stillTerminating = active.length + terminating.length;
      if (stillTerminating === 0) {
        if (failureTarget) {
          setCond('Failed', failureTarget.reason, failureTarget.message);
          event(job, 'Warning', failureTarget.reason, failureTarget.message);
        } else {
          setCond('Complete', successCriteria.reason, successCriteria.message);
          status.completionTime = nowRFC3339(now);
          event(job, 'Normal', 'Completed', 'Job completed');
        }
      }
    } else if (suspended) {
      for (const p of active) deletePod(job, p);
    } else {
      // manageJob
      const wantActive = completions === undefined ? (status.succeeded > 0 ? 0 : parallelism) : Math.min(parallelism, completions - status.succeeded);
      const diff = wantActive - active.length;
      if (diff > 0) {
        const delay = bo.failuresAfterLastSuccess > 0 ? Math.min(base * 2 ** (bo.failuresAfterLastSuccess - 1), max) : 0;
        const wait = bo.failuresAfterLastSuccess > 0 ? bo.lastFailureTime + delay - now : 0;
        if (wait > 0) nextWake = Math.min(nextWake ?? wait, wait);
        else {
          for (let i = 0; i < Math.min(diff, 500); i++) {
            try {
              const pod = store.create('pods', ns, podFromTemplate(job.spec.template, job, `${name}-`, { finalizers: [JOB_TRACKING_FINALIZER] }));
              active.push(pod);
              event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
            } catch (err) {
              event(job, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
              break;
            }
          }
        }
      } else if (diff < 0) {
        // Too many active pods (parallelism lowered): delete the extra ones, not-ready first.
        const extra = [...active].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b))).slice(0, -diff);
        for (const p of extra) deletePod(job, p);
      }
    }

    const stillActive = store.list('pods', ns).items.filter(
      (p) => controllerRef(p)?.uid === uid && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp,
    );
    const stillTerminating = store.list('pods', ns).items.filter(
      (p) => controllerRef(p)?.uid === uid && p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
    );
    status.active = stillActive.length;
    status.ready = stillActive.filter(isPodReady).length;
    status.terminating = stillTerminating.length;
    status.uncountedTerminatedPods = {};
    status.conditions = conditions;
    // omitempty int32s of batch/v1 JobStatus (ready and terminating are pointers: kept at 0).
    for (const k of ['active', 'succeeded', 'failed']) if (status[k] === 0) delete status[k];
    if (!status.conditions.length) delete status.conditions;

    // Status first, then finalizers: a pod must be counted before it may disappear.
    if (!deepEqual(job.status ?? {}, status)) {
      const cur = store.find('batch/jobs', ns, name);
      if (!cur || cur.metadata.uid !== uid) return;
      cur.status = status;
      store.update('batch/jobs', ns, name, cur, { subresource: 'status' });
    }
    for (const p of toRelease) removeFinalizer(p);
    if (nextWake !== undefined) queue.addAfter(key, nextWake + 5);
    const finished = conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    if (finished) handleTTL(store.find('batch/jobs', ns, name) ?? job);
  }

  /** ttlafterfinished_controller.go: delete once finishTime + ttl passed (Foreground, UID precondition). */
  function handleTTL(job: KubeObject): void {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp) return;
    const c = condition(job, 'Complete') ?? condition(job, 'Failed');
    const finished = parseTime(c?.lastTransitionTime);
    if (finished === undefined) return;
    const left = finished + ttl * 1000 - Date.now();
    if (left > 0) {
      queue.addAfter(`${job.metadata.namespace}/${job.metadata.name}`, left + 5);
      return;
    }
    try {
      store.delete('batch/jobs', job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    if (ev.key === 'batch/jobs') {
      if (ev.type !== 'DELETED') queue.add(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
      else {
        backoffs.delete(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
        counted.delete(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
      }
    } else if (ev.key === 'pods') {
      const ref = controllerRef(ev.object);
      if (ref?.kind === 'Job') {
        const key = `${ev.object.metadata.namespace}/${ref.name}`;
        if (store.find('batch/jobs', ev.object.metadata.namespace, ref.name)?.metadata.uid === ref.uid) queue.add(key);
        else if (ev.type !== 'DELETED' && ev.object.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) {
          // The owning job is gone: nobody else will ever remove the finalizer.
          setImmediate(() => {
            try {
              removeFinalizer(ev.object);
            } catch (err) {
              opts.log?.(`job-controller: orphan finalizer ${ev.object.metadata.name}: ${errorMessage(err)}`);
            }
          });
        }
      } else if (!ref && ev.type !== 'DELETED') {
        let adoptable = false;
        for (const j of store.list('batch/jobs', ev.object.metadata.namespace).items)
          if (selectorMatches(j.spec?.selector, ev.object.metadata.labels) && !isJobFinished(j) && !j.metadata.deletionTimestamp) {
            adoptable = true;
            queue.add(`${j.metadata.namespace}/${j.metadata.name}`);
          }
        // job_controller.go syncOrphanPod: an orphaned pod (job deleted with orphan propagation) that no job can
        // adopt loses the tracking finalizer, or it could never be deleted.
        if (!adoptable && ev.object.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) {
          setImmediate(() => {
            try {
              removeFinalizer(ev.object);
            } catch (err) {
              opts.log?.(`job-controller: orphan finalizer ${ev.object.metadata.name}: ${errorMessage(err)}`);
            }
          });
        }
      }
    }
  });
  for (const j of store.list('batch/jobs', undefined).items) queue.add(`${j.metadata.namespace}/${j.metadata.name}`);
  return {
    async stop() {
      unsubscribe();
      await queue.stop();
    },
  };
}
