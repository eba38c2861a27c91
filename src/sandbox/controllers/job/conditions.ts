/**
 * The Job's conditions (K pkg/controller/job/job_controller.go syncJob): suspension, and the terminal conditions
 * of k8s >= 1.31: interim `SuccessCriteriaMet`/`FailureTarget` first, then `Complete`/`Failed` with the same reason
 * once no pod is terminating (enactJobFinished / delayTerminalCondition). Failure decisions in syncJob order:
 * backoff limit, then active deadline.
 */
import { nowRFC3339, parseTime } from '../../machinery/time.js';
import type { KubeObject } from '../../types.js';
import { wakeIn, type JobEnv, type JobSync } from './state.js';

/** The condition of `type` with status True. */
export function trueCondition(job: KubeObject, type: string): any {
  return (job.status?.conditions as any[] | undefined)?.find((c) => c.type === type && c.status === 'True');
}

export function isJobFinished(job: KubeObject): boolean {
  return !!(trueCondition(job, 'Complete') || trueCondition(job, 'Failed'));
}

const findTrue = (s: JobSync, type: string): any => s.conditions.find((c) => c.type === type && c.status === 'True');

/** Adds a True condition unless one of that type is True already. */
export function setCondition(s: JobSync, type: string, reason: string, message: string): void {
  if (findTrue(s, type)) return;
  const t = nowRFC3339(s.now);
  s.conditions = [...s.conditions.filter((c) => c.type !== type), { type, status: 'True', lastProbeTime: t, lastTransitionTime: t, reason, message }];
}

/**
 * Suspended True/JobSuspended while spec.suspend; resuming flips it to False/JobResumed and restarts the
 * active-deadline clock by resetting startTime.
 */
export function syncSuspension(env: JobEnv, s: JobSync): void {
  const suspended = s.job.spec?.suspend === true;
  const current = s.conditions.find((c) => c.type === 'Suspended');
  const t = nowRFC3339(s.now);
  if (suspended && current?.status !== 'True') {
    const c = { type: 'Suspended', status: 'True', lastProbeTime: t, lastTransitionTime: t, reason: 'JobSuspended', message: 'Job suspended' };
    s.conditions = [...s.conditions.filter((x) => x.type !== 'Suspended'), c];
    env.event(s.job, 'Normal', 'Suspended', 'Job suspended');
  } else if (!suspended && current?.status === 'True') {
    s.conditions = s.conditions.map((c) => (c.type === 'Suspended' ? { ...c, status: 'False', lastProbeTime: t, lastTransitionTime: t, reason: 'JobResumed', message: 'Job resumed' } : c));
    s.status.startTime = t;
    env.event(s.job, 'Normal', 'Resumed', 'Job resumed');
  }
}

/** Container restarts of the active pods (restartPolicy OnFailure counts them against the backoff limit). */
function activeRestarts(s: JobSync): number {
  let restarts = 0;
  for (const p of s.active)
    for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += cs.restartCount ?? 0;
  return restarts;
}

/** Why the Job fails now (backoff limit, then active deadline), if it does; schedules a wake-up for the deadline. */
function failure(s: JobSync): { reason: string; message: string } | undefined {
  const spec = s.job.spec ?? {};
  const backoffLimit: number = spec.backoffLimit ?? 6;
  const onFailure = spec.template?.spec?.restartPolicy === 'OnFailure';
  const restarts = onFailure ? activeRestarts(s) : 0;
  const pastOnFailure = onFailure && (backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit);
  if ((s.newFailed > 0 && s.status.failed > backoffLimit) || pastOnFailure) {
    return { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
  }
  if (spec.suspend === true || spec.activeDeadlineSeconds === undefined || spec.activeDeadlineSeconds === null || !s.status.startTime) return undefined;
  const deadline = (parseTime(s.status.startTime) ?? s.now) + spec.activeDeadlineSeconds * 1000;
  if (s.now >= deadline) return { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
  wakeIn(s, deadline - s.now);
  return undefined;
}

/** Whether enough pods succeeded (without completions: one, and none still running). */
function succeeded(s: JobSync): boolean {
  const completions: number | undefined = s.job.spec?.completions ?? undefined;
  return completions === undefined ? s.status.succeeded > 0 && s.active.length === 0 : s.status.succeeded >= completions;
}

/** The interim terminal condition (FailureTarget or SuccessCriteriaMet) this sync has or reaches, if any. */
export function finishingCondition(s: JobSync): any {
  const existing = findTrue(s, 'FailureTarget') ?? findTrue(s, 'SuccessCriteriaMet');
  if (existing) return existing;
  const failed = failure(s);
  if (failed) setCondition(s, 'FailureTarget', failed.reason, failed.message);
  else if (succeeded(s)) setCondition(s, 'SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods');
  return findTrue(s, 'FailureTarget') ?? findTrue(s, 'SuccessCriteriaMet');
}

/** enactJobFinished: the final condition, with the interim one's reason, once no pod runs or terminates. */
export function enactFinished(env: JobEnv, s: JobSync, interim: any): void {
  if (interim.type === 'FailureTarget') {
    setCondition(s, 'Failed', interim.reason, interim.message);
    env.event(s.job, 'Warning', interim.reason, interim.message);
  } else {
    setCondition(s, 'Complete', interim.reason, interim.message);
    s.status.completionTime = nowRFC3339(s.now);
    env.event(s.job, 'Normal', 'Completed', 'Job completed');
  }
}
