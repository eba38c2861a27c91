/**
 * The attempts of a batch stage's Job (batch-stage.ts): its pods in creation order, each one's log followed once its
 * container started and its last lines kept, each failure said once, as it happens; and why an attempt failed.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { CONTAINER_NAME, SCRIPT_TIMEOUT_EXIT_CODE, setupSecondsOf, type PlannedBatchStage, type ScriptLimit } from '../plan/index.js';
import { errorMessage } from '../errors.js';
import { followPodLog } from './log-stream.js';
import { diagnosePod } from './pod-diagnosis.js';
import { containerStarted, emitStageLine, podFinished } from './stage-log.js';
import type { DeployContext } from './types.js';

/** Lines kept per attempt for a failed stage's `logTail`. */
export const LOG_TAIL_LINES = 20;
/**
 * How long a finished Job's log streams may go without delivering a line before they are cut off. Idle time, not a
 * total: a long log read behind a slow output (Logger.backlog) keeps delivering, and a finished container's log ends.
 */
export const LOG_DRAIN_MS = 10_000;

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
export async function initContainerTail(ctx: DeployContext, pod: V1Pod): Promise<string[]> {
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

export interface Attempt {
  number: number;
  pod: V1Pod;
  tail: string[];
  follow?: Promise<void>;
  /** Its failure has been logged. */
  reported?: boolean;
}

/** The pods of one Job: attempts in creation order, each one's log followed once its container started. */
export class Attempts {
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
export async function readPodsNow(ctx: DeployContext, jobName: string, attempts: Attempts): Promise<void> {
  try {
    const pods = await ctx.client.list<V1Pod>('Pod', ctx.namespace, { labelSelector: `job-name=${jobName}`, signal: ctx.signal });
    for (const pod of pods.items) attempts.update(pod);
  } catch (e) {
    ctx.logger.debug(`could not list the pods of Job ${jobName}: ${errorMessage(e)}`);
  }
}
