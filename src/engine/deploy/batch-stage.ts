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
import type { V1ContainerStatus, V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node';
import { type Manifest, watchObjects, waitForObject } from '../kube/index.js';
import {
  CONTAINER_NAME,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  LABEL_STAGE,
  MANAGED_BY,
  runJobName,
  SCRIPT_TIMEOUT_EXIT_CODE,
  setupSecondsOf,
  type PlannedBatchStage,
  type ScriptLimit,
} from '../plan/index.js';
import { followPodLog } from './log-stream.js';
import { diagnosePod } from './pod-diagnosis.js';
import { podWarningEvents, withPullFailure } from './pod-events.js';
import { containerStarted, emitStageLine, podFinished } from './stage-log.js';
import type { BatchStageRunner, DeployContext, StageResult } from './types.js';
import { enforcedViolation, podSecurityReason } from './pod-security.js';
import { abortMessage, errorMessage } from '../errors.js';
import { DEFAULT_KEEP_JOBS } from '../settings.js';

/** Lines kept per attempt for a failed stage's `logTail`. */
export const LOG_TAIL_LINES = 20;
/**
 * How long a finished Job's log streams may go without delivering a line before they are cut off. Idle time, not a
 * total: a long log read behind a slow output (Logger.backlog) keeps delivering, and a finished container's log ends.
 */
export const LOG_DRAIN_MS = 10_000;

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

function containerStatus(pod: V1Pod): V1ContainerStatus | undefined {
  const all = pod.status?.containerStatuses ?? [];
  return all.find((c) => c.name === CONTAINER_NAME) ?? all[0];
}

/**
 * Why one attempt failed: `exit code 1`, `exceeded MAX_COMPLETION_TIME_SECONDS (30 s)` (the command stopped the script
 * at `limit`), `DeadlineExceeded: Pod was active on the node longer than ...` (the backstop).
 */
export function attemptFailure(pod: V1Pod, limit?: ScriptLimit): string | undefined {
  if (pod.status?.phase !== 'Failed') return pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded' ? 'deleted before it finished' : undefined;
  if (pod.status.reason) {
    const backstop = pod.status.reason === 'DeadlineExceeded' && limit ? ` (${limit.deadlineSeconds} s: ${limit.setting} plus the set-up's allowance)` : '';
    return `${pod.status.reason}${pod.status.message ? `: ${pod.status.message}` : ''}${backstop}`;
  }
  const init = failedInitContainers(pod)[0];
  if (init) return `init container "${init.name}" exit code ${init.state?.terminated?.exitCode}`;
  const t = containerStatus(pod)?.state?.terminated;
  if (t && limit && t.exitCode === SCRIPT_TIMEOUT_EXIT_CODE) return `exceeded ${limit.setting} (${limit.seconds} s)`;
  if (t) return `exit code ${t.exitCode}${t.reason && t.reason !== 'Error' ? ` (${t.reason})` : ''}${t.message ? `: ${t.message.trim()}` : ''}`;
  const w = containerStatus(pod)?.state?.waiting;
  if (w) return `${w.reason ?? 'waiting'}${w.message ? `: ${w.message}` : ''}`;
  return 'failed';
}

/** Init containers that exited non-zero (the stage container then never ran). */
function failedInitContainers(pod: V1Pod): V1ContainerStatus[] {
  return (pod.status?.initContainerStatuses ?? []).filter((st) => (st.state?.terminated?.exitCode ?? 0) !== 0);
}

/** The last log lines of the attempt's failed init containers, `<pod>/<container>: ` prefixed (none when it has no such container). */
async function initContainerTail(ctx: DeployContext, pod: V1Pod): Promise<string[]> {
  const name = pod.metadata?.name ?? '';
  const lines: string[] = [];
  for (const st of failedInitContainers(pod)) {
    try {
      const text = await ctx.client.podLog(ctx.namespace, name, { container: st.name, tailLines: LOG_TAIL_LINES, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(15_000)]) });
      const podLines = text.split('\n');
      if (podLines.at(-1) === '') podLines.pop();
      for (const l of podLines.slice(-LOG_TAIL_LINES)) lines.push(`${name}/${st.name}: ${l}`);
    } catch (e) {
      ctx.logger.debug(`no log of ${name}/${st.name}: ${errorMessage(e)}`);
    }
  }
  return lines;
}

interface Attempt {
  number: number;
  pod: V1Pod;
  tail: string[];
  follow?: Promise<void>;
  /** Its failure has been logged. */
  reported?: boolean;
}

/** The pods of one Job: attempts in creation order, each one's log followed once its container started. */
class Attempts {
  readonly byName = new Map<string, Attempt>();
  private waiters: (() => void)[] = [];
  private readonly follows = new AbortController();
  /** When a followed log last delivered a line (or its output caught up): drain's idle clock. */
  private lastProgress = Date.now();
  /** Set when a pod cannot start however long one waits (unschedulable, image or container config errors). */
  fatal?: { pod: string; reason: string };
  private onFatal?: () => void;
  /** Resolves when a pod is found unable to start. */
  readonly fatalFound = new Promise<void>((resolve) => (this.onFatal = resolve));
  private onSucceeded?: () => void;
  /**
   * Resolves when an attempt's pod has succeeded. The planned Job needs one completion, so that is its success; the
   * Job controller marks it Complete later (kube-controller-manager batches pod updates for up to a second), and
   * waiting for that would add its delay to every batch stage.
   */
  readonly succeededFound = new Promise<void>((resolve) => (this.onSucceeded = resolve));

  constructor(
    private readonly ctx: DeployContext,
    private readonly stage: PlannedBatchStage,
    private readonly maxAttempts: number,
    signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.follows.abort(), { once: true });
  }

  /** A pod was added or changed. */
  update(pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    let a = this.byName.get(name);
    if (!a) {
      a = { number: this.byName.size + 1, pod, tail: [] };
      this.byName.set(name, a);
      this.ctx.logger.info(`[${this.stage.stage}] attempt ${a.number}/${this.maxAttempts}: pod ${name}`);
    }
    a.pod = pod;
    if (pod.status?.phase === 'Succeeded') this.onSucceeded?.();
    if (!a.follow && containerStarted(pod)) this.follow(a);
    const failure = a.reported ? undefined : attemptFailure(pod, this.stage.scriptLimit);
    if (failure !== undefined && pod.status?.phase === 'Failed') {
      a.reported = true;
      this.ctx.logger.info(`[${this.stage.stage}] attempt ${a.number}/${this.maxAttempts} failed: ${failure}`);
    }
    // With restartPolicy Never such a pod stays Pending for ever: the Job would neither fail nor retry.
    if (pod.status?.phase === 'Pending' && !pod.metadata?.deletionTimestamp && this.fatal === undefined) {
      const d = diagnosePod(pod);
      if (d.fatal) {
        this.fatal = { pod: name, reason: d.reason };
        this.onFatal?.();
      }
    }
    this.changed();
  }

  changed(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private follow(a: Attempt): void {
    const name = a.pod.metadata?.name ?? '';
    const prefix = `[${this.stage.stage}]`;
    a.follow = followPodLog({
      client: this.ctx.client,
      namespace: this.ctx.namespace,
      pod: name,
      container: CONTAINER_NAME,
      signal: this.follows.signal,
      terminated: () => podFinished(a.pod),
      nextChange: () => new Promise<void>((resolve) => this.waiters.push(resolve)),
      onError: (m) => this.ctx.logger.debug(m),
      backlog: () => {
        const behind = this.ctx.logger.backlog?.();
        void behind?.then(() => (this.lastProgress = Date.now()));
        return behind;
      },
      onCutOff: (m) => this.ctx.logger.warn(`${prefix} ${m}`),
      onLine: (line) => {
        this.lastProgress = Date.now();
        this.noticeSlowSetup(a, line);
        emitStageLine(this.ctx, this.stage.stage, line);
        a.tail.push(`${name}: ${line}`);
        if (a.tail.length > LOG_TAIL_LINES) a.tail.shift();
      },
    });
  }

  /** Says so when an attempt's set-up (copy, pip install) took longer than the script's limit, which does not count it. */
  private noticeSlowSetup(a: Attempt, line: string): void {
    const limit = this.stage.scriptLimit;
    const seconds = limit ? setupSecondsOf(line) : undefined;
    if (limit === undefined || seconds === undefined || seconds <= limit.seconds) return;
    this.ctx.logger.info(
      `[${this.stage.stage}] attempt ${a.number}: the set-up (code copy, pip install) took ${seconds} s, longer than ${limit.setting} (${limit.seconds} s), which bounds the script alone; ` +
        `an attempt may take ${limit.deadlineSeconds} s in all`,
    );
  }

  /**
   * Waits for every followed log to be read to its end, as long as they deliver (at most `ms` without a line), then
   * stops following; a log still being read is said to be cut off.
   */
  async drain(ms: number): Promise<void> {
    const all = Promise.all([...this.byName.values()].map((a) => a.follow)).then(() => true);
    // The idle clock starts now: a quiet stage's log gets the whole `ms` to deliver its end, as it always did.
    this.lastProgress = Date.now();
    let read = false;
    for (let idle = Date.now() - this.lastProgress; idle < ms; idle = Date.now() - this.lastProgress) {
      let timer: NodeJS.Timeout | undefined;
      read = await Promise.race([all, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms - idle)))]);
      clearTimeout(timer);
      if (read) break;
    }
    this.stop();
    if (!read) this.ctx.logger.warn(`[${this.stage.stage}] the log is cut off here: still being read ${ms / 1000} s after the Job ended (kubectl logs shows the rest)`);
  }

  stop(): void {
    this.follows.abort();
    this.changed();
  }

  list(): Attempt[] {
    return [...this.byName.values()].sort((a, b) => a.number - b.number);
  }
}

/**
 * Brings the attempts up to the pods as they are now. The pod watch can lag the Job's (a cut watch being
 * re-established, a throttled re-list): without this, an attempt whose start the watch had not shown yet would have
 * no log follow, and its lines would be lost. One list; if it fails, the watch's view stands.
 */
async function readPodsNow(ctx: DeployContext, jobName: string, attempts: Attempts): Promise<void> {
  try {
    const pods = await ctx.client.list<V1Pod>('Pod', ctx.namespace, { labelSelector: `job-name=${jobName}`, signal: ctx.signal });
    for (const pod of pods.items) attempts.update(pod);
  } catch (e) {
    ctx.logger.debug(`could not list the pods of Job ${jobName}: ${errorMessage(e)}`);
  }
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

  // The pod watch lists first, so pods created before it started are not missed.
  let watchError: unknown;
  const podWatch = watchObjects<V1Pod>({
    client: ctx.client,
    path: `/api/v1/namespaces/${ns}/pods`,
    labelSelector: `job-name=${jobName}`,
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
    watchError = e;
    ctx.logger.debug(`[${stage.stage}] pod watch of Job ${jobName} failed: ${errorMessage(e)}`);
  });

  try {
    ctx.logger.info(`[${stage.stage}] creating Job ${jobName} in namespace=${ns} (${retries + 1} attempt${retries === 0 ? '' : 's'} at most)`);
    attemptedCreate = true;
    const warnings: string[] = [];
    await ctx.client.create(job as unknown as Manifest, { signal: ctx.signal, warnings });
    const violation = enforcedViolation(warnings, ctx.podSecurity);
    if (violation !== undefined) {
      // Its pods would all be rejected: fail now, not at the run's timeout, and stop the Job's controller retrying.
      attempts.stop();
      await ctx.client.delete('Job', ns, jobName, { propagationPolicy: 'Background' }).catch(() => false);
      const reason = `${podSecurityReason(ns, violation)} (Job ${jobName} deleted)`;
      ctx.logger.error(`[${stage.stage}] ${reason}`);
      return result({ status: 'failed', reason });
    }
    let seen = false;
    const outcome = await Promise.race([
      waitForObject<V1Job, { complete: boolean; condition?: V1JobCondition; gone?: true }>(
        { client: ctx.client, path: `/apis/batch/v1/namespaces/${ns}/jobs`, name: jobName },
        (j) => {
          if (j === undefined) return seen ? { complete: false, gone: true } : undefined;
          seen = true;
          return jobOutcome(j);
        },
        { signal, description: `Job '${jobName}' to complete or fail` },
      ),
      attempts.fatalFound.then(() => undefined),
      attempts.succeededFound.then((): { complete: boolean; condition?: V1JobCondition; gone?: true } => ({ complete: true })),
    ]);
    if (outcome === undefined) {
      // A pod that cannot start: fail now rather than at the run's timeout, and stop the Job.
      const fatal = attempts.fatal!;
      attempts.stop();
      await ctx.client.delete('Job', ns, jobName, { propagationPolicy: 'Background' }).catch(() => false);
      const events = await podWarningEvents(ctx, [fatal.pod]);
      const reason = `pod ${fatal.pod} cannot start: ${withPullFailure(fatal.reason, events)} (Job ${jobName} deleted)`;
      ctx.logger.error(`[${stage.stage}] ${reason}`);
      return result({ status: 'failed', reason, ...(events.length > 0 ? { events } : {}) });
    }
    await readPodsNow(ctx, jobName, attempts);
    await attempts.drain(LOG_DRAIN_MS);
    if (ctx.signal.aborted) return await cancelled();
    const list = attempts.list();
    if (outcome.complete) {
      ctx.logger.info(`[${stage.stage}] Job ${jobName} completed (${list.length} attempt${list.length === 1 ? '' : 's'})`);
      return result({ status: 'succeeded' });
    }
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
    return result({ status: 'failed', reason, ...(logTail.length > 0 ? { logTail } : {}), ...(events.length > 0 ? { events } : {}) });
  } catch (e) {
    if (ctx.signal.aborted) return await cancelled();
    attempts.stop();
    const message = errorMessage(e);
    ctx.logger.error(`[${stage.stage}] ${message}`);
    return result({ status: 'failed', reason: message });
  } finally {
    local.abort();
    await podWatch;
    if (watchError !== undefined) ctx.logger.debug(`[${stage.stage}] pod watch ended with an error`);
  }
};

/**
 * Deletes the stage's finished Jobs (Background propagation) except the most recent `ctx.keepJobs` (default 1), so
 * `kubectl logs job/<name>` still shows the last run; with 0, every finished Job goes. Jobs still running (another run's) are left alone, and
 * so are other projects' Jobs of a stage with the same name in a shared namespace (selected by project too).
 * Resolves with the names deleted; failures are logged as warnings, never thrown.
 */
export async function cleanupStageJobs(
  ctx: Pick<DeployContext, 'client' | 'logger' | 'namespace' | 'plan' | 'keepJobs'>,
  stage: Pick<PlannedBatchStage, 'baseName' | 'stage'>,
  result?: Pick<StageResult, 'object' | 'status'>,
): Promise<string[]> {
  try {
    const { items } = await ctx.client.list<V1Job>('Job', ctx.namespace, { labelSelector: `${LABEL_STAGE}=${stage.baseName},${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_PART_OF}=${ctx.plan.labels[LABEL_PART_OF]}` });
    const time = (j: V1Job) => new Date(j.metadata?.creationTimestamp ?? 0).getTime();
    const sorted = [...items].sort((a, b) => time(b) - time(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''));
    // This run's Job is finished once its stage is (its pod succeeded), before its controller marks it Complete.
    const ours = result && (result.status === 'succeeded' || result.status === 'failed') ? result.object : undefined;
    const deleted: string[] = [];
    for (const j of sorted.slice(ctx.keepJobs ?? DEFAULT_KEEP_JOBS)) {
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
