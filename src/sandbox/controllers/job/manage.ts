/**
 * manageJob (K pkg/controller/job/job_controller.go): as many active pods as parallelism and the remaining
 * completions ask for, new ones only once the failure back-off has passed; the extra ones deleted, not-ready first.
 */
import { errorMessage } from '../../../engine/errors.js';
import { isNotFound } from '../../machinery/errors.js';
import { isPodReady, podFromTemplate } from '../../machinery/pods.js';
import type { KubeObject } from '../../types.js';
import { remainingBackoff, type BackoffPolicy, type BackoffRecord } from './backoff.js';
import { wakeIn, type JobEnv, type JobSync } from './state.js';
import { JOB_TRACKING_FINALIZER } from './tracking.js';

/** Pods created per sync at most (upstream MaxPodCreateDeletePerSync). */
const MAX_CREATE_PER_SYNC = 500;

export function deletePod(env: JobEnv, job: KubeObject, pod: KubeObject): void {
  try {
    env.store.delete('pods', pod.metadata.namespace, pod.metadata.name!);
    env.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
  } catch (err) {
    if (!isNotFound(err)) env.event(job, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
  }
}

export function manageJob(env: JobEnv, s: JobSync, bo: BackoffRecord, policy: BackoffPolicy): void {
  const spec = s.job.spec ?? {};
  const completions: number | undefined = spec.completions ?? undefined;
  const parallelism: number = spec.parallelism ?? 1;
  const wantActive = completions === undefined ? (s.status.succeeded > 0 ? 0 : parallelism) : Math.min(parallelism, completions - s.status.succeeded);
  const diff = wantActive - s.active.length;
  if (diff > 0) {
    const wait = remainingBackoff(bo, policy, s.now);
    if (wait > 0) wakeIn(s, wait);
    else createPods(env, s, Math.min(diff, MAX_CREATE_PER_SYNC));
  } else if (diff < 0) {
    // Too many active pods (parallelism lowered): delete the extra ones, not-ready first.
    const extra = [...s.active].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b))).slice(0, -diff);
    for (const p of extra) deletePod(env, s.job, p);
  }
}

function createPods(env: JobEnv, s: JobSync, n: number): void {
  const job = s.job;
  for (let i = 0; i < n; i++) {
    try {
      const pod = env.store.create('pods', job.metadata.namespace, podFromTemplate(job.spec.template, job, `${job.metadata.name}-`, { finalizers: [JOB_TRACKING_FINALIZER] }));
      s.active.push(pod);
      env.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    } catch (err) {
      env.event(job, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
      break;
    }
  }
}
