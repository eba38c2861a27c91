/**
 * One service stage: apply its Service (+ Ingress) and Deployment, wait for the rollout by `kubectl rollout status`'s
 * rules while diagnosing the new pods (fail fast), streaming their logs and saying how many replicas are ready, and on failure or cancellation undo it: back to the revision that
 * was serving (awaited), or, for a first-ever deployment, delete what was created.
 *
 * Bodywork's rollback (bodywork-behaviour.md §2.9, §7) sorted revisions as strings, kept the pod-template-hash
 * label, did not wait and did not roll back unschedulable deployments; this one fixes all four. Because the planned
 * Deployment has maxUnavailable 0, the old ReplicaSet keeps its ready pods while the new one fails.
 */
import type { V1Deployment, V1Ingress, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { KubeApiError, type KubeClient } from '../kube/index.js';
import { errorLine } from '../errors.js';
import { MAX_SURGE, type PlannedServiceStage } from '../plan/index.js';
import { logSources } from './pod-diagnosis.js';
import { podWarningEvents, withPullFailure } from './pod-events.js';
import { ServicePodLogs } from './stage-log.js';
import { chooseRollbackTarget, revisionOf, rollbackManifest, stripTemplate, templateOf } from './rollout.js';
import { waitForRollout, type RolloutOutcome } from './rollout-wait.js';
import type { DeployContext, ServiceStageRunner, StageResult } from './types.js';

/** Added to the startup time budget: scheduling, process start, the controllers' reaction. */
export const ROLLOUT_GRACE_SECONDS = 30;
/** Bound on the API calls of an undo after cancellation (the run is being stopped: no waiting for the rollback). */
const CANCEL_UNDO_BUDGET_MS = 15_000;

export interface ServiceStageOptions {
  /** Field manager of every apply (default: the client's, `bodywork-deploy`). */
  fieldManager?: string;
  /** Seconds added to the startup budget (default ROLLOUT_GRACE_SECONDS). */
  graceSeconds?: number;
  /** Overrides the rollout time budget (tests). */
  timeoutMs?: number;
  /** Time budget of the rollback's wait (default: the rollout's). */
  rollbackTimeoutMs?: number;
  /** Log lines kept per failing container (default 20). */
  tailLines?: number;
  /** Failing pods whose logs are collected (default 3). */
  maxLogPods?: number;
  /** Watch tuning (tests). */
  watch?: { idleTimeoutMs?: number; backoff?: { baseMs?: number; capMs?: number } };
}

/**
 * How long a rollout may take: MAX_STARTUP_TIME_SECONDS per wave of new pods, plus the install's allowance per wave
 * where the format's limit does not include it (INI, "1.0": plan/limits.ts), plus a grace. A first deployment starts
 * every replica at once; an update surges MAX_SURGE at a time (maxUnavailable 0), so ceil(replicas / MAX_SURGE) waves.
 */
export function rolloutTimeoutMs(stage: PlannedServiceStage, existedBefore: boolean, graceSeconds = ROLLOUT_GRACE_SECONDS): number {
  const replicas = stage.deployment.spec?.replicas ?? 1;
  const waves = existedBefore ? Math.max(1, Math.ceil(replicas / MAX_SURGE)) : 1;
  return (waves * (stage.startup.seconds + stage.startup.graceSeconds) + graceSeconds) * 1000;
}

/** What the startup limit allowed, for a rollout that ran out of time: `max_startup_time_seconds is 5 s, plus 90 s for installing`. */
function startupBudget(stage: PlannedServiceStage): string {
  const { setting, seconds, graceSeconds } = stage.startup;
  return `${setting} is ${seconds} s per wave of new pods${graceSeconds > 0 ? `, plus ${graceSeconds} s for installing` : ''}`;
}

/** A one-line reason: an API error's whole message (it is one line, with the server's Status), else the first line. */
function reasonOf(e: unknown): string {
  return e instanceof KubeApiError ? e.message : errorLine(e);
}

/** JSON with sorted keys: templates compared the way the deployment controller does (ignoring key order). */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : val,
  );
}

/** Runs service stages with `options`; `runServiceStage` is the default one. */
export function createServiceStageRunner(options: ServiceStageOptions = {}): ServiceStageRunner {
  return (ctx, stage, step) => new ServiceStageRun(ctx, stage, step, options).run();
}

export const runServiceStage: ServiceStageRunner = createServiceStageRunner();

class ServiceStageRun {
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly name: string;
  private readonly replicas: number;
  private readonly tag: string;
  private readonly t0 = Date.now();
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly ctx: DeployContext,
    private readonly stage: PlannedServiceStage,
    private readonly step: number,
    private readonly options: ServiceStageOptions,
  ) {
    this.client = ctx.client;
    this.namespace = stage.deployment.metadata?.namespace ?? ctx.namespace;
    this.name = stage.deployment.metadata?.name ?? stage.baseName;
    this.replicas = stage.deployment.spec?.replicas ?? 1;
    this.tag = stage.stage;
  }

  private result(fields: Partial<StageResult> & Pick<StageResult, 'status'>): StageResult {
    return {
      stage: this.stage.stage,
      type: 'service',
      step: this.step,
      attempts: 1,
      startedAt: this.startedAt,
      durationMs: Date.now() - this.t0,
      object: `Deployment/${this.name}`,
      url: this.stage.url,
      replicas: this.replicas,
      ...fields,
    };
  }

  private apply<T>(obj: object, signal: AbortSignal): Promise<T> {
    return this.client.apply(obj as Parameters<KubeClient['apply']>[0], { signal, fieldManager: this.options.fieldManager }) as Promise<T>;
  }

  async run(): Promise<StageResult> {
    const { ctx, tag } = this;
    const log = ctx.logger;
    if (ctx.signal.aborted) return this.result({ status: 'cancelled', attempts: 0, reason: 'cancelled before the stage started' });
    let before: V1Deployment | undefined;
    let applied: V1Deployment | undefined;
    // How far the writes got: nothing sent, Service/Ingress applied (or in flight), Deployment apply in flight (a first
    // deployment's objects all at once), applied.
    let phase: 'before' | 'objects' | 'applying' | 'applied' = 'before';
    try {
      // In a namespace this run created there is nothing to find.
      before = ctx.namespaceCreated ? undefined : await this.client.find<V1Deployment>('Deployment', this.namespace, this.name, { signal: ctx.signal });
      const existed = before !== undefined;
      log.info(`${tag}: rolling out Deployment ${this.name} (${this.replicas} replica${this.replicas === 1 ? '' : 's'})`);
      log.debug(existed ? `${tag}: Deployment ${this.name} exists at revision ${revisionOf(before) ?? '?'}` : `${tag}: first deployment of ${this.name}`);
      if (existed) {
        // An update: the Service and Ingress first, so that when one is refused the serving Deployment is untouched.
        phase = 'objects';
        await this.apply(this.stage.service, ctx.signal);
        if (this.stage.ingress) await this.apply(this.stage.ingress, ctx.signal);
        phase = 'applying';
        applied = await this.apply<V1Deployment>(this.stage.deployment, ctx.signal);
      } else {
        // A first deployment: all at once (a failure deletes them all), so its pods start one round trip sooner.
        phase = 'applying';
        const deployment = this.apply<V1Deployment>(this.stage.deployment, ctx.signal);
        await allApplied([deployment, ...[this.stage.service, this.stage.ingress].filter((o) => o !== undefined).map((o) => this.apply(o, ctx.signal))]);
        applied = await deployment;
      }
      phase = 'applied';
      const slow = this.slowStartNotice();
      // The new pods' logs, while the rollout runs (a service that never gets ready says why there).
      const podLogs = new ServicePodLogs(ctx, this.stage.stage);
      const outcome = await waitForRollout({
        client: this.client,
        namespace: this.namespace,
        name: this.name,
        selector: this.stage.selector,
        timeoutMs: this.options.timeoutMs ?? rolloutTimeoutMs(this.stage, existed, this.options.graceSeconds),
        signal: ctx.signal,
        logger: log,
        description: `the rollout of Deployment ${this.name}`,
        watch: this.options.watch,
        // Created by this apply: watched from its creation, no lists.
        ...(this.client.creationVersion(applied) !== undefined ? { created: applied } : {}),
        onProgress: (ready, desired) => log.info(`${tag}: ${ready}/${desired} new replicas ready`),
        onPods: (pods) => podLogs.update(pods),
      }).finally(async () => {
        clearTimeout(slow);
        await podLogs.close();
      });
      if (outcome.kind === 'complete') {
        const ready = outcome.deployment.status?.readyReplicas ?? 0;
        log.info(`${tag}: ${ready}/${this.replicas} replicas ready`);
        const publicUrl = await this.publicUrl();
        return this.result({ status: 'succeeded', readyReplicas: ready, ...(publicUrl !== undefined ? { publicUrl } : {}) });
      }
      if (outcome.kind === 'cancelled') return await this.cancel(before);
      // Out of time: say what the startup limit allowed (not for a budget the caller set).
      // What the scheduler and the kubelet said about the failing pods, read while the pods still exist.
      const events = await podWarningEvents(ctx, outcome.pods.map((p) => p.metadata?.name ?? ''));
      const failed = withPullFailure(outcome.reason, events);
      const reason = outcome.kind === 'timeout' && this.options.timeoutMs === undefined ? `${failed} (${startupBudget(this.stage)})` : failed;
      log.warn(`${tag}: the rollout of Deployment ${this.name} failed: ${reason}`);
      const logTail = await this.collectLogTail(outcome.pods);
      const r = await this.undoSafely(before, reason, logTail);
      return events.length > 0 ? { ...r, events } : r;
    } catch (e) {
      if (ctx.signal.aborted) {
        if (phase === 'before') return this.result({ status: 'cancelled', reason: 'cancelled before anything was applied' });
        if (before && phase === 'objects') return this.result({ status: 'cancelled', reason: 'cancelled before the Deployment was applied' });
        return this.cancel(before);
      }
      const reason = reasonOf(e);
      log.error(`${tag}: ${reason}`);
      if (phase === 'before') return this.result({ status: 'failed', reason });
      // The server refused the Deployment (invalid, immutable selector, forbidden): an existing one is unchanged.
      const refused = phase === 'applying' && e instanceof KubeApiError && e.statusCode !== undefined && e.statusCode < 500;
      if (before && (phase === 'objects' || refused)) return this.result({ status: 'failed', reason });
      // A first deployment leaves nothing behind; an update may be half rolled out: undo it (the API may be as broken for that).
      return this.undoSafely(before, reason, []);
    }
  }

  /**
   * Where the startup limit leaves the install out (INI, "1.0"), one line when the limit has passed without a ready
   * rollout: the wait goes on for the install's allowance. A timer, cleared when the rollout ends.
   */
  private slowStartNotice(): NodeJS.Timeout | undefined {
    const { setting, seconds, graceSeconds } = this.stage.startup;
    if (graceSeconds === 0) return undefined;
    return setTimeout(
      () => this.ctx.logger.info(`${this.tag}: not ready after ${setting} (${seconds} s); waiting up to ${graceSeconds} s more per wave for the install, as Bodywork 1 and 2 did`),
      seconds * 1000,
    );
  }

  /** `undo`, with its own API failures reported in the result. */
  private async undoSafely(before: V1Deployment | undefined, reason: string, logTail: string[]): Promise<StageResult> {
    try {
      return await this.undo(before, reason, logTail);
    } catch (e) {
      const what = before ? 'could not roll back' : 'could not delete the objects of the first deployment';
      this.ctx.logger.error(`${this.tag}: ${what}: ${reasonOf(e)}`);
      return this.result({ status: 'failed', reason: `${reason}; ${what}: ${reasonOf(e)}`, ...(logTail.length > 0 ? { logTail } : {}) });
    }
  }

  /** Cancelled mid-rollout: start the undo (not awaited: the run is stopping) and report `cancelled`. */
  private async cancel(before: V1Deployment | undefined): Promise<StageResult> {
    const signal = AbortSignal.timeout(CANCEL_UNDO_BUDGET_MS);
    this.ctx.logger.warn(`${this.tag}: cancelled during the rollout of Deployment ${this.name}`);
    try {
      if (!before) {
        await this.deleteAll(signal);
        return this.result({ status: 'cancelled', reason: `cancelled during the first rollout; deleted Deployment, Service${this.stage.ingress ? ' and Ingress' : ''} ${this.name}` });
      }
      const r = await this.startRollback(before, signal);
      if (r.kind === 'none') return this.result({ status: 'cancelled', reason: `cancelled during the rollout; ${r.why}` });
      return this.result({ status: 'cancelled', reason: `cancelled during the rollout; rolling back to revision ${r.revision} (not awaited)` });
    } catch (e) {
      return this.result({ status: 'cancelled', reason: `cancelled during the rollout; the undo failed: ${reasonOf(e)}` });
    }
  }

  /** Failed: roll back (awaited) or, for a first deployment, delete everything. API errors are thrown (undoSafely reports them). */
  private async undo(before: V1Deployment | undefined, reason: string, logTail: string[]): Promise<StageResult> {
    const log = this.ctx.logger;
    const tail = logTail.length > 0 ? { logTail } : {};
    if (!before) {
      log.info(`${this.tag}: first deployment of ${this.name} failed: deleting its Deployment, Service${this.stage.ingress ? ' and Ingress' : ''}`);
      await this.deleteAll(AbortSignal.timeout(60_000));
      return this.result({ status: 'failed', reason, readyReplicas: 0, ...tail });
    }
    const r = await this.startRollback(before, AbortSignal.timeout(60_000));
    if (r.kind === 'none') return this.result({ status: 'failed', reason: `${reason}; not rolled back: ${r.why}`, ...tail });
    const outcome: RolloutOutcome = await waitForRollout({
      client: this.client,
      namespace: this.namespace,
      name: this.name,
      selector: this.stage.selector,
      timeoutMs: this.options.rollbackTimeoutMs ?? this.options.timeoutMs ?? rolloutTimeoutMs(this.stage, true, this.options.graceSeconds),
      signal: this.ctx.signal,
      logger: log,
      description: `the rollback of Deployment ${this.name}`,
      watch: this.options.watch,
    });
    const ready = outcome.deployment?.status?.readyReplicas ?? 0;
    if (outcome.kind === 'complete') {
      log.info(`${this.tag}: rolled back Deployment ${this.name} to revision ${r.revision}; ${ready}/${this.replicas} replicas ready`);
      return this.result({ status: 'rolled-back', reason: `${reason}; rolled back to revision ${r.revision}`, readyReplicas: ready, ...tail });
    }
    const why = outcome.kind === 'cancelled' ? 'cancelled while waiting for it' : outcome.reason;
    log.error(`${this.tag}: the rollback of Deployment ${this.name} to revision ${r.revision} did not finish: ${why}`);
    return this.result({
      status: outcome.kind === 'cancelled' ? 'cancelled' : 'failed',
      reason: `${reason}; the rollback to revision ${r.revision} did not finish: ${why}`,
      readyReplicas: ready,
      ...tail,
    });
  }

  /**
   * Applies the template of the revision that was serving before this run (`kubectl rollout undo` semantics, see
   * rollbackManifest). Nothing to do when this run did not change the template.
   */
  private async startRollback(before: V1Deployment, signal: AbortSignal): Promise<{ kind: 'started'; revision: number } | { kind: 'none'; why: string }> {
    const current = await this.client.find<V1Deployment>('Deployment', this.namespace, this.name, { signal });
    if (!current) return { kind: 'none', why: `Deployment ${this.name} no longer exists` };
    const list = await this.client.list<V1ReplicaSet>('ReplicaSet', this.namespace, { labelSelector: selectorString(this.stage.selector), signal });
    const currentRevision = revisionOf(current) ?? Number.MAX_SAFE_INTEGER;
    const beforeRevision = revisionOf(before);
    // The revision that was serving; else, as kubectl, the highest one below the current (numerically).
    const target =
      list.items.find((rs) => beforeRevision !== undefined && revisionOf(rs) === beforeRevision && rs.metadata?.ownerReferences?.some((o) => o.uid === current.metadata?.uid)) ??
      chooseRollbackTarget(current.metadata?.uid, list.items, currentRevision);
    if (!target) return { kind: 'none', why: `no earlier revision of Deployment ${this.name} to roll back to` };
    const revision = revisionOf(target)!;
    if (canonical(templateOf(target)) === canonical(stripTemplate(current.spec?.template))) {
      return { kind: 'none', why: `the Deployment's template already matches revision ${revision}` };
    }
    this.ctx.logger.info(`${this.tag}: rolling back Deployment ${this.name} to revision ${revision} (ReplicaSet ${target.metadata?.name})`);
    await this.apply(rollbackManifest(this.stage.deployment, target), signal);
    return { kind: 'started', revision };
  }

  /**
   * The Ingress's public URL, once an ingress controller has published its address in the Ingress status:
   * `http://<address><ingressPath>/` (Bodywork's route). Undefined without an ingress, an address, or on any error.
   */
  private async publicUrl(): Promise<string | undefined> {
    if (!this.stage.ingress || !this.stage.ingressPath) return undefined;
    try {
      const ing = await this.client.find<V1Ingress>('Ingress', this.namespace, this.stage.ingress.metadata?.name ?? this.name, { signal: this.ctx.signal });
      const lb = ing?.status?.loadBalancer?.ingress?.find((i) => i.ip || i.hostname);
      const host = lb?.hostname || lb?.ip;
      if (!host) return undefined;
      return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}${this.stage.ingressPath}/`;
    } catch (e) {
      this.ctx.logger.debug(`${this.tag}: no public URL: ${reasonOf(e)}`);
      return undefined;
    }
  }

  /** First deployment failed or cancelled: delete what this stage created (Background propagation). */
  private async deleteAll(signal: AbortSignal): Promise<void> {
    const opts = { signal, propagationPolicy: 'Background' as const };
    await this.client.delete('Deployment', this.namespace, this.name, opts);
    await this.client.delete('Service', this.namespace, this.stage.service.metadata?.name ?? this.name, opts);
    if (this.stage.ingress) await this.client.delete('Ingress', this.namespace, this.stage.ingress.metadata?.name ?? this.name, opts);
  }

  /** The last log lines of the failing pods' containers, `<pod>: ` prefixed (a crashed container's previous instance). */
  private async collectLogTail(pods: V1Pod[]): Promise<string[]> {
    const lines: string[] = [];
    const tailLines = this.options.tailLines ?? 20;
    const signal = AbortSignal.any([this.ctx.signal, AbortSignal.timeout(15_000)]);
    for (const pod of pods.slice(0, this.options.maxLogPods ?? 3)) {
      const podName = pod.metadata?.name ?? '';
      const sources = logSources(pod);
      for (const src of sources) {
        const prefix = sources.length > 1 ? `${podName}/${src.container}: ` : `${podName}: `;
        let text: string | undefined;
        for (const previous of src.previous ? [true, false] : [false]) {
          try {
            text = await this.client.podLog(this.namespace, podName, { container: src.container, tailLines, previous, signal });
            break;
          } catch (e) {
            this.ctx.logger.debug(`${this.tag}: no ${previous ? 'previous ' : ''}log of ${podName}/${src.container}: ${reasonOf(e)}`);
          }
        }
        if (text === undefined) continue;
        const podLines = text.split('\n');
        if (podLines.at(-1) === '') podLines.pop();
        for (const l of podLines.slice(-tailLines)) lines.push(prefix + l);
      }
    }
    return lines;
  }
}

/** Waits for every apply to settle (none is left in flight to land after an undo), then throws the first failure. */
async function allApplied(applies: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(applies);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}

function selectorString(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
