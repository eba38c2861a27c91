/**
 * Pod tracking with finalizers (K pkg/controller/job/job_controller.go trackJobStatusAndRemoveFinalizers,
 * tracking_utils.go). Pods carry the `batch.kubernetes.io/job-tracking` finalizer; a finished pod is counted into
 * succeeded/failed and its finalizer removed in the same sync (upstream goes through status.uncountedTerminatedPods
 * to survive crashes; an in-process controller cannot crash between the two writes, so the field is always written
 * empty).
 */
import { isNotFound } from '../../machinery/errors.js';
import { isTerminal } from '../../machinery/pods.js';
import { parseTime } from '../../machinery/time.js';
import type { KubeObject } from '../../types.js';
import type { BackoffRecord } from './backoff.js';
import { SOURCE, type JobEnv, type JobSync } from './state.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

export const hasTrackingFinalizer = (pod: KubeObject): boolean => !!pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER);

/** Removes the tracking finalizer from the pod (if it is still the same pod and has one). */
export function removeTrackingFinalizer(env: JobEnv, pod: KubeObject): void {
  if (!hasTrackingFinalizer(pod)) return;
  try {
    const cur = env.store.peek('pods', pod.metadata.namespace, pod.metadata.name!);
    if (!cur || cur.metadata.uid !== pod.metadata.uid) return;
    const rest = (cur.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
    env.store.patch('pods', pod.metadata.namespace, pod.metadata.name!, 'merge', { metadata: { finalizers: rest.length ? rest : null } }, { fieldManager: SOURCE });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** isPodFailed, default pod replacement policy: a pod being deleted that did not succeed failed. */
export function podFailed(pod: KubeObject): boolean {
  if (pod.status?.phase === 'Failed') return true;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

/** Pods being deleted that have not finished yet. */
export const isTerminating = (p: KubeObject): boolean => !!p.metadata.deletionTimestamp && !isTerminal(p);

/** When a failed pod finished: its last container's finishedAt, else its deletion, else `now`. */
function finishTime(pod: KubeObject, now: number): number {
  let t: number | undefined;
  for (const cs of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    const f = parseTime(cs.state?.terminated?.finishedAt);
    if (f !== undefined && (t === undefined || f > t)) t = f;
  }
  return t ?? parseTime(pod.metadata.deletionTimestamp) ?? now;
}

/**
 * Counts the pods that finished since the last sync (each once: `seen` remembers them) into the status and the
 * back-off record, and marks them for finalizer removal.
 */
export function countFinishedPods(s: JobSync, seen: Set<string>, bo: BackoffRecord): void {
  let newSucceeded = 0;
  for (const p of s.pods) {
    const succeeded = p.status?.phase === 'Succeeded';
    if (!succeeded && !podFailed(p)) continue;
    if (!hasTrackingFinalizer(p) || seen.has(p.metadata.uid!)) continue;
    seen.add(p.metadata.uid!);
    s.toRelease.push(p);
    if (succeeded) {
      newSucceeded++;
      bo.failuresAfterLastSuccess = 0;
    } else {
      s.newFailed++;
      bo.failuresAfterLastSuccess++;
      bo.lastFailureTime = Math.max(bo.lastFailureTime, finishTime(p, s.now));
    }
  }
  s.status.succeeded = (s.status.succeeded ?? 0) + newSucceeded;
  s.status.failed = (s.status.failed ?? 0) + s.newFailed;
}
