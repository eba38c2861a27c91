/**
 * A stage's own output: the log lines of its pods, prefixed `[<stage>] `, through one channel only. A caller that
 * gives `onLogLine` gets every line there and nowhere else; without one, the lines go to the logger's `info`. Never
 * both: the action and the CLI print what reaches them, so a line sent twice would be printed twice.
 *
 * Batch stages follow each attempt's log until it ends (batch-stage.ts); service stages follow their new pods'
 * logs while the rollout runs, until it is ready or has failed (ServicePodLogs here): a service logs for ever, and
 * after the rollout its lines belong to `kubectl logs`, not to the deploy.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { CONTAINER_NAME } from '../plan/index.js';
import { followPodLog } from './log-stream.js';
import type { DeployContext } from './types.js';

/** Sends one line of `stage`'s output through the run's one channel for stage output. */
export function emitStageLine(ctx: Pick<DeployContext, 'onLogLine' | 'logger'>, stage: string, line: string): void {
  const prefixed = `[${stage}] ${line}`;
  if (ctx.onLogLine) ctx.onLogLine(stage, prefixed);
  else ctx.logger.info(prefixed);
}

function stageContainer(pod: V1Pod) {
  const all = pod.status?.containerStatuses ?? [];
  return all.find((c) => c.name === CONTAINER_NAME) ?? all[0];
}

/** The stage container is running or has run: it has a log to read. */
export function containerStarted(pod: V1Pod): boolean {
  const s = stageContainer(pod)?.state;
  return s?.running !== undefined || s?.terminated !== undefined;
}

/** The pod's stage container will write no more log lines. */
export function podFinished(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || stageContainer(pod)?.state?.terminated !== undefined;
}

/**
 * Follows the logs of a service stage's new pods while its rollout runs: each pod once its container has started,
 * every line through `emitStageLine`. `update` is given the new ReplicaSet's pods at each change; `close` stops
 * every follow at once (the rollout ended: ready, failed or cancelled).
 */
export class ServicePodLogs {
  /** The latest view of each pod of the rollout. */
  private readonly pods = new Map<string, V1Pod>();
  private readonly followed = new Set<string>();
  private readonly follows: Promise<void>[] = [];
  /** The rollout ended: each follow makes its last read and ends. */
  private readonly finish = new AbortController();
  private waiters: (() => void)[] = [];

  constructor(
    private readonly ctx: DeployContext,
    private readonly stage: string,
  ) {}

  private closed = false;

  update(pods: V1Pod[]): void {
    if (this.closed) return;
    const present = new Set<string>();
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      present.add(name);
      this.pods.set(name, pod);
      if (!this.followed.has(name) && containerStarted(pod)) {
        this.followed.add(name);
        this.follow(name);
      }
    }
    // A pod gone from the list (deleted, replaced) writes nothing more for this rollout.
    for (const name of this.pods.keys()) if (!present.has(name)) this.pods.delete(name);
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private follow(name: string): void {
    this.follows.push(
      followPodLog({
        client: this.ctx.client,
        namespace: this.ctx.namespace,
        pod: name,
        container: CONTAINER_NAME,
        signal: this.ctx.signal,
        finish: this.finish.signal,
        terminated: () => {
          const pod = this.pods.get(name);
          return pod === undefined || podFinished(pod);
        },
        nextChange: () => new Promise<void>((resolve) => this.waiters.push(resolve)),
        onError: (m) => this.ctx.logger.debug(m),
        onLine: (line) => emitStageLine(this.ctx, this.stage, line),
      }),
    );
  }

  /**
   * Stops following: each pod's log is read once more to its current end (what was written up to readiness, or up to
   * the failure, is not cut), then every follow lets go. No new pod is followed after this.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.finish.abort();
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
    await Promise.all(this.follows);
  }
}
