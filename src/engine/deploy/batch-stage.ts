/**
 * `runBatchStage`: one batch stage as one Job per run, watched until a pod of it succeeded or the Job failed.
 *
 * What Bodywork got wrong and this does not (bodywork-behaviour.md §2.8, §2.11, §2.12, §7.5): success is a pod that
 * succeeded (the Job needs one completion; its controller marks it Complete up to a second later), failure the Job's
 * `Failed` condition with its reason, never the `status.failed` counter, so retries are honoured; every attempt's
 * log is streamed while it runs, not printed after the step; nothing sleeps or polls: the Job and its pods are
 * watched.
 *
 * Time limits (plan/limits.ts): the container's command bounds the script alone and exits with
 * SCRIPT_TIMEOUT_EXIT_CODE at its limit, which is reported as `exceeded MAX_COMPLETION_TIME_SECONDS (N s)`, for each
 * attempt as it ends; the pod's activeDeadlineSeconds is only a generous backstop, so the wait here allows for the
 * image pull and the install, and says so when the set-up took longer than the script's limit.
 */
import type { V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node';
import { fromVersion, type Manifest, type WatchArgs, watchObjects, waitForObject } from '../kube/index.js';
import { LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_STAGE, MANAGED_BY, runJobName, type PlannedBatchStage } from '../plan/index.js';
import { podWarningEvents, withPullFailure } from './pod-events.js';
import { emitStageLine } from './stage-log.js';
import type { BatchStageRunner, DeployContext, StageResult } from './types.js';
import { enforcedViolation, podSecurityReason } from './pod-security.js';
import { abortMessage, errorMessage } from '../errors.js';
import { DEFAULT_KEEP_JOBS } from '../settings.js';
import { attemptFailure, Attempts, initContainerTail, LOG_DRAIN_MS, LOG_TAIL_LINES, readPodsNow, type Attempt } from './batch-attempts.js';

// The attempts' part lives in batch-attempts.ts; importers know these from here.
export { attemptFailure, LOG_DRAIN_MS, LOG_TAIL_LINES } from './batch-attempts.js';

/** The Job of `stage` for run `runId`: `<baseName>-<run id>` (a new Job per run: Job templates are immutable). */
export function jobNameFor(stage: Pick<PlannedBatchStage, 'baseName'>, runId: string): string {
  return runJobName(stage.baseName, runId);
}

/** A Job's terminal condition (`Complete` or `Failed` with status True), if it has one. */
export function jobOutcome(job: V1Job | undefined): { complete: boolean; condition: V1JobCondition } | undefined {
  for (const c of job?.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return { complete: true, condition: c };
    if (c.type === 'Failed') return { complete: false, condition: c };
  }
  return undefined;
}

/**
 * Whether a Job has finished: marked Complete or Failed, or (an earlier run that ended on its pod's success a moment
 * ago, before the controller marked the Job) its one completion counted or its pod Succeeded. The pods are listed
 * only for a Job that is neither, which a locked namespace rarely holds.
 */
async function jobFinished(ctx: Pick<DeployContext, 'client' | 'namespace'>, job: V1Job): Promise<boolean> {
  if (jobOutcome(job) !== undefined || (job.status?.succeeded ?? 0) > 0) return true;
  const { items } = await ctx.client.list<V1Pod>('Pod', ctx.namespace, { labelSelector: `job-name=${job.metadata?.name}` });
  return items.some((p) => p.status?.phase === 'Succeeded');
}

/**
 * Runs one batch stage: creates its Job (`<baseName>-<run id>`), follows every attempt's log (each line
 * `[<stage>] ...` once, through emitStageLine), and waits for the Job's Complete or Failed
 * condition. Never throws: API failures, like stage failures, end as a `failed` result with the reason. On
 * `ctx.signal` the Job is deleted (Background propagation: its pods go with it) and the result is `cancelled`.
 */
export const runBatchStage: BatchStageRunner = async (ctx, stage, step) => {
  const started = Date.now();
  const jobName = jobNameFor(stage, ctx.runId);
  const ns = ctx.namespace;
  const retries = stage.job.spec?.backoffLimit ?? 0;
  const base: StageResult = { stage: stage.stage, type: 'batch', step, status: 'failed', attempts: 0, startedAt: new Date(started).toISOString(), object: `Job/${jobName}` };
  const local = new AbortController();
  const signal = AbortSignal.any([ctx.signal, local.signal]);
  const attempts = new Attempts(ctx, stage, retries + 1, signal);
  const result = (r: Partial<StageResult>): StageResult => ({ ...base, attempts: attempts.byName.size, ...r, durationMs: Date.now() - started });
  let attemptedCreate = false;

  const cancelled = async (): Promise<StageResult> => {
    attempts.stop();
    // Also when the create did not answer: it may have reached the server before the abort.
    if (attemptedCreate) {
      try {
        if (await ctx.client.delete('Job', ns, jobName, { propagationPolicy: 'Background' })) ctx.logger.info(`[${stage.stage}] cancelled: deleted Job ${jobName}`);
      } catch (e) {
        ctx.logger.warn(`[${stage.stage}] could not delete Job ${jobName}: ${errorMessage(e)}`);
      }
    }
    return result({ status: 'cancelled', reason: abortMessage(ctx.signal) });
  };

  if (ctx.signal.aborted) return cancelled();
  const job: V1Job = structuredClone(stage.job);
  job.metadata = { ...job.metadata, name: jobName, namespace: ns };

  let podWatch: Promise<void> | undefined;

  try {
    ctx.logger.info(`[${stage.stage}] creating Job ${jobName} in namespace=${ns} (${retries + 1} attempt${retries === 0 ? '' : 's'} at most)`);
    attemptedCreate = true;
    const warnings: string[] = [];
    const created = await ctx.client.create<V1Job>(job as unknown as Manifest, { signal: ctx.signal, warnings });
    // Watched from the create's own version, where the Job is as created and has no pod yet: no lists needed.
    // A create that was retried answers from later (a read-back): then the watches list first.
    const since = ctx.client.creationVersion(created);
    podWatch = watchPods(ctx, stage, jobName, attempts, signal, fromVersion(since, []));
    const violation = enforcedViolation(warnings, ctx.podSecurity);
    if (violation !== undefined) {
      // Its pods would all be rejected: fail now, not at the run's timeout, and stop the Job's controller retrying.
      await stopJob(ctx, jobName, attempts);
      return result(stageFailed(ctx, stage, `${podSecurityReason(ns, violation)} (Job ${jobName} deleted)`));
    }
    const outcome = await jobEnd(ctx, jobName, attempts, signal, fromVersion(since, [created]));
    if (outcome === undefined) {
      // A pod that cannot start: fail now rather than at the run's timeout, and stop the Job.
      const fatal = attempts.fatal!;
      await stopJob(ctx, jobName, attempts);
      const events = await podWarningEvents(ctx, [fatal.pod]);
      const reason = `pod ${fatal.pod} cannot start: ${withPullFailure(fatal.reason, events)} (Job ${jobName} deleted)`;
      return result({ ...stageFailed(ctx, stage, reason), ...(events.length > 0 ? { events } : {}) });
    }
    // The pod watch delivers events in order, so when it showed the success it had shown every earlier attempt.
    if (!outcome.byPodWatch) await readPodsNow(ctx, jobName, attempts);
    await attempts.drain(LOG_DRAIN_MS);
    if (ctx.signal.aborted) return await cancelled();
    const list = attempts.list();
    if (outcome.complete) {
      ctx.logger.info(`[${stage.stage}] Job ${jobName} completed (${list.length} attempt${list.length === 1 ? '' : 's'})`);
      return result({ status: 'succeeded' });
    }
    return result(await jobFailure(ctx, stage, jobName, outcome, list));
  } catch (e) {
    if (ctx.signal.aborted) return await cancelled();
    attempts.stop();
    return result(stageFailed(ctx, stage, errorMessage(e)));
  } finally {
    local.abort();
    await podWatch;
  }
};

/** How a Job ended: its Complete or Failed condition, its deletion (`gone`), or a pod of it that succeeded (`byPodWatch`). */
type JobEnd = { complete: boolean; condition?: V1JobCondition; gone?: true; byPodWatch?: true };

/**
 * Waits for the Job's end (watching it), or for a pod of it that succeeded or cannot start (from `attempts`), which
 * come sooner; resolves undefined for the pod that cannot start (`attempts.fatal`). The Job is watched `from` its
 * creation (KubeClient.creationVersion) when known, else listed first.
 */
function jobEnd(ctx: DeployContext, jobName: string, attempts: Attempts, signal: AbortSignal, from: Pick<WatchArgs, 'resourceVersion' | 'initial'>): Promise<JobEnd | undefined> {
  let seen = false;
  return Promise.race([
    waitForObject<V1Job, JobEnd>(
      { client: ctx.client, path: `/apis/batch/v1/namespaces/${ctx.namespace}/jobs`, name: jobName, ...from },
      (j) => {
        if (j === undefined) return seen ? { complete: false, gone: true } : undefined;
        seen = true;
        return jobOutcome(j);
      },
      { signal, description: `Job '${jobName}' to complete or fail` },
    ),
    attempts.fatalFound.then(() => undefined),
    attempts.succeededFound.then((): JobEnd => ({ complete: true, byPodWatch: true })),
  ]);
}

/** Stops following the attempts and deletes the Job (Background: its pods go with it); a failed delete is let be. */
async function stopJob(ctx: DeployContext, jobName: string, attempts: Attempts): Promise<void> {
  attempts.stop();
  await ctx.client.delete('Job', ctx.namespace, jobName, { propagationPolicy: 'Background' }).catch(() => false);
}

/** The stage failed for `reason` (its pods refused or unable to start, an API failure): logged, as a result. */
function stageFailed(ctx: DeployContext, stage: PlannedBatchStage, reason: string): Partial<StageResult> {
  ctx.logger.error(`[${stage.stage}] ${reason}`);
  return { status: 'failed', reason };
}

/**
 * Watches the Job's pods into `attempts` until `signal`; a failure of the watch is warned of. It lists first, so
 * pods created before it started are not missed; or watches `from` the Job's creation, when it had no pod yet.
 */
function watchPods(ctx: DeployContext, stage: PlannedBatchStage, jobName: string, attempts: Attempts, signal: AbortSignal, from: Pick<WatchArgs, 'resourceVersion' | 'initial'>): Promise<void> {
  return watchObjects<V1Pod>({
    client: ctx.client,
    path: `/api/v1/namespaces/${ctx.namespace}/pods`,
    labelSelector: `job-name=${jobName}`,
    ...from,
    signal,
    onEvent: (e) => {
      if (e.type !== 'DELETED') attempts.update(e.object);
      else {
        const a = attempts.byName.get(e.object.metadata?.name ?? '');
        if (a) a.pod = { ...e.object, metadata: { ...e.object.metadata, deletionTimestamp: e.object.metadata?.deletionTimestamp ?? new Date() } };
        attempts.changed();
      }
    },
  }).catch((e: unknown) => {
    // The Job's outcome does not depend on it, but its attempts' logs are followed from it.
    ctx.logger.warn(`[${stage.stage}] the watch of Job ${jobName}'s pods failed: ${errorMessage(e)}; the stage's log may be incomplete`);
  });
}

/** The result of a Job that failed (or was deleted): the reason with the last failed attempt's, its log tail and warning events. */
async function jobFailure(ctx: DeployContext, stage: PlannedBatchStage, jobName: string, outcome: JobEnd, list: Attempt[]): Promise<Partial<StageResult>> {
  const failed = list.filter((a) => attemptFailure(a.pod, stage.scriptLimit) !== undefined);
  const last = failed.at(-1);
  const why = outcome.gone
    ? `Job ${jobName} was deleted before it finished`
    : `${outcome.condition?.reason ?? 'Failed'}: ${outcome.condition?.message ?? 'the Job failed'}`;
  const detail = last ? `; attempt ${last.number} (pod ${last.pod.metadata?.name}): ${attemptFailure(last.pod, stage.scriptLimit)}` : '';
  const reason = `${why} after ${list.length} attempt${list.length === 1 ? '' : 's'}${detail}`;
  for (const a of failed) {
    const init = await initContainerTail(ctx, a.pod);
    for (const l of init) emitStageLine(ctx, stage.stage, l);
    a.tail.unshift(...init);
  }
  const logTail = failed.flatMap((a) => a.tail).slice(-LOG_TAIL_LINES);
  ctx.logger.error(`[${stage.stage}] Job ${jobName} failed: ${reason}`);
  const events = await podWarningEvents(ctx, failed.map((a) => a.pod.metadata?.name ?? ''));
  return { status: 'failed', reason, ...(logTail.length > 0 ? { logTail } : {}), ...(events.length > 0 ? { events } : {}) };
}

/**
 * Deletes the stage's finished Jobs (Background propagation) except the most recent `ctx.keepJobs` (default 1), so
 * `kubectl logs job/<name>` still shows the last run; with 0, every finished Job goes. Jobs still running (another run's) are left alone, and
 * so are other projects' Jobs of a stage with the same name in a shared namespace (selected by project too).
 * In a namespace this run created, the only Job of the stage is this run's: no list.
 * Resolves with the names deleted; failures are logged as warnings, never thrown.
 */
export async function cleanupStageJobs(
  ctx: Pick<DeployContext, 'client' | 'logger' | 'namespace' | 'plan' | 'keepJobs' | 'namespaceCreated'>,
  stage: Pick<PlannedBatchStage, 'baseName' | 'stage'>,
  result?: Pick<StageResult, 'object' | 'status'>,
): Promise<string[]> {
  // This run's Job is finished once its stage is (its pod succeeded), before its controller marks it Complete.
  const ours = result && (result.status === 'succeeded' || result.status === 'failed') ? result.object : undefined;
  const keep = ctx.keepJobs ?? DEFAULT_KEEP_JOBS;
  if (ctx.namespaceCreated && (keep > 0 || ours === undefined)) return [];
  try {
    const { items } = await ctx.client.list<V1Job>('Job', ctx.namespace, { labelSelector: `${LABEL_STAGE}=${stage.baseName},${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_PART_OF}=${ctx.plan.labels[LABEL_PART_OF]}` });
    const time = (j: V1Job) => new Date(j.metadata?.creationTimestamp ?? 0).getTime();
    const sorted = [...items].sort((a, b) => time(b) - time(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''));
    const deleted: string[] = [];
    for (const j of sorted.slice(keep)) {
      if (j.metadata?.deletionTimestamp || !(`Job/${j.metadata?.name}` === ours || (await jobFinished(ctx, j)))) continue;
      const name = j.metadata?.name ?? '';
      if (await ctx.client.delete('Job', ctx.namespace, name, { propagationPolicy: 'Background' })) deleted.push(name);
    }
    if (deleted.length > 0) ctx.logger.debug(`[${stage.stage}] deleted finished Jobs of earlier runs: ${deleted.join(', ')}`);
    return deleted;
  } catch (e) {
    ctx.logger.warn(`[${stage.stage}] could not clean up earlier Jobs: ${errorMessage(e)}`);
    return [];
  }
}
