/**
 * `deployProject`: runs a plan. The workflow of Bodywork's controller (bodywork-behaviour.md §4), with its known
 * defects fixed (§7): namespace setup, then a check that every referenced secret exists (before anything runs),
 * then the DAG steps in order; all stages of a step run at once (batch and service together: Bodywork ran a
 * step's batch stages before its services); when a stage fails, the step's other stages still finish, later steps
 * are skipped, and the `run_on_failure` stage runs with `EXCEPTION_MESSAGE`. An overall timeout and the caller's
 * signal bound the run; nothing sleeps or polls.
 */
import type { V1EnvVar } from '@kubernetes/client-node';
import { formatDuration } from '../duration.js';
import type { ProjectSpec } from '../config/spec.js';
import type { KubeClient } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { LABEL_PART_OF, type DeployPlan, type PlannedBatchStage, type PlannedStage } from '../plan/index.js';
import { cleanupStageJobs, runBatchStage } from './batch-stage.js';
import { needsIngressClass, resolveIngressClass, withIngressClass } from './ingress-class.js';
import { applySecretValues, type SecretValues } from './input-secrets.js';
import { acquireLock, defaultHolder, LockTimeoutError, type DeployLock } from './lock.js';
import { ensureNamespace, setupNamespace } from './namespace.js';
import { pruneProject } from './prune.js';
import { checkPullSecrets } from './pull-secrets.js';
import { checkSecrets } from './secrets.js';
import { runServiceStage } from './service-stage.js';
import { stopStaleRun } from './stale-run.js';
import type { BatchStageRunner, DeployContext, DeployProgress, DeployResult, ServiceStageRunner, StageResult } from './types.js';
import { abortMessage, errorMessage } from '../errors.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../settings.js';

/** The env var the run_on_failure stage gets the failure reason in (Bodywork's name). */
export const EXCEPTION_MESSAGE_ENV = 'EXCEPTION_MESSAGE';

export interface DeployOptions {
  client: KubeClient;
  logger: Logger;
  spec: ProjectSpec;
  plan: DeployPlan;
  /** This run's id: per-run Job names derive from it. */
  runId: string;
  /** Cancels the run (SIGINT/SIGTERM, the action's cancel): in-flight stages end `cancelled`, the run `failure`. */
  signal?: AbortSignal;
  /** Bounds the whole run; when it passes the run is aborted like a cancellation. */
  timeoutMs?: number;
  /** Stage log lines (`[stage] ...`), each exactly once; without it they go to `logger.info` (stage-log.ts). */
  onLogLine?: (stage: string, line: string) => void;
  /** Stage runners (tests); defaults: `runBatchStage` and `runServiceStage` from service-stage.ts. */
  runBatchStage?: BatchStageRunner;
  runServiceStage?: ServiceStageRunner;
  /** How long to wait for another run's deploy lock on the namespace (default 10 min); then the run fails naming the holder. */
  lockTimeoutMs?: number;
  /** This run's identity in the deploy lock (default `<runId> (<host>/<pid>)`). */
  holder?: string;
  /** After a successful run, delete the objects of stages no longer in the DAG and unused code bundles (default true). */
  prune?: boolean;
  /** Finished Jobs kept per batch stage after each step (default 1: the latest, for `kubectl logs`; 0 deletes them all). */
  keepJobs?: number;
  /** Secrets to create or update in the namespace, under the lock and before the stages' secrets are checked. */
  secrets?: SecretValues[];
  /** Told when each step starts (the lock held, the namespace set up) and ends; errors it throws are ignored. */
  onProgress?: (progress: DeployProgress) => void;
}

/** A copy of `stage` whose Job container has `name=value` in its environment. */
export function withStageEnv(stage: PlannedBatchStage, name: string, value: string): PlannedBatchStage {
  const job = structuredClone(stage.job);
  for (const c of job.spec?.template.spec?.containers ?? []) {
    const env: V1EnvVar[] = (c.env ?? []).filter((e) => e.name !== name);
    env.push({ name, value });
    c.env = env;
  }
  return { ...stage, job, objects: [job] };
}

function skipped(stage: PlannedStage, step: number, reason: string): StageResult {
  return { stage: stage.stage, type: stage.type, step, status: 'skipped', attempts: 0, reason };
}

/** One line for a stage that did not succeed: `stage 'x' failed: <reason>`. */
function describeFailure(r: StageResult): string {
  return `stage '${r.stage}' ${r.status === 'rolled-back' ? 'was rolled back' : r.status}${r.reason ? `: ${r.reason}` : ''}`;
}

/**
 * Deploys `plan`. Never throws for a failed stage or an unreachable cluster: the result says what happened to
 * every stage of the plan (in DAG order, then the run_on_failure stage if it ran) and why the run failed.
 */
export async function deployProject(options: DeployOptions): Promise<DeployResult> {
  let run: DeployRun | undefined;
  try {
    // Ingresses without a class get the cluster's default class, else nginx (ingress-class.ts).
    let plan = options.plan;
    if (needsIngressClass(plan)) {
      const className = await resolveIngressClass(options.client, options.logger, options.signal);
      if (className !== undefined) plan = withIngressClass(plan, className);
    }
    run = new DeployRun({ ...options, plan });
    return await run.run();
  } finally {
    await run?.close();
  }
}

/**
 * One run of a plan: its abort controller (the caller's signal, the timeout, a lost lock abort it), the deploy lock
 * once held, and every stage's result so far (in DAG order; `skipped` until it runs).
 */
class DeployRun {
  private readonly started = Date.now();
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout> | undefined;
  private readonly ctx: DeployContext;
  private readonly results = new Map<string, StageResult>();
  private lock: DeployLock | undefined;
  private readonly onCallerAbort = () => {
    const reason = this.options.signal?.reason;
    this.controller.abort(reason instanceof Error && reason.name !== 'AbortError' ? reason : new Error('the deployment was cancelled'));
  };
  private readonly onLost = () => this.controller.abort(this.lock?.lost.reason);

  constructor(private readonly options: DeployOptions) {
    const { client, logger, spec, plan, runId, signal, timeoutMs } = options;
    if (options.keepJobs !== undefined && (!Number.isInteger(options.keepJobs) || options.keepJobs < 0)) {
      throw new RangeError(`keepJobs must be a whole number of 0 or more, got ${options.keepJobs}`);
    }
    if (signal?.aborted) this.onCallerAbort();
    else signal?.addEventListener('abort', this.onCallerAbort, { once: true });
    if (timeoutMs !== undefined) this.timer = setTimeout(() => this.controller.abort(new Error(`the deployment timed out after ${formatDuration(timeoutMs)}`)), timeoutMs);

    this.ctx = {
      client,
      logger,
      spec,
      plan,
      namespace: plan.namespace,
      runId,
      signal: this.controller.signal,
      ...(options.onLogLine ? { onLogLine: options.onLogLine } : {}),
      ...(options.keepJobs !== undefined ? { keepJobs: options.keepJobs } : {}),
    };
    for (const step of plan.steps) for (const stage of step.stages) this.results.set(stage.stage, skipped(stage, step.index, 'not run'));
  }

  async run(): Promise<DeployResult> {
    const { client, logger, spec, plan, runId } = this.options;
    const namespace = plan.namespace;
    logger.info(`Deploying ${plan.project} to namespace=${namespace} (run ${runId})`);

    // 1. Namespace and secrets: nothing runs unless both are in order. run_on_failure does not run for these (as Bodywork).
    const unprepared = await this.prepare();
    if (unprepared !== undefined) {
      this.skipAll(`not run: ${unprepared}`);
      return this.finish(unprepared);
    }

    // 2. The DAG, step by step; every stage of a step at once.
    const failure = await this.runSteps();
    const signal = this.controller.signal;
    const runReason = signal.aborted ? abortMessage(signal) : undefined;
    if (failure !== undefined || signal.aborted) this.skipAll(`not run: ${signal.aborted ? runReason : `an earlier step failed (${failure})`}`);

    // 3. run_on_failure, with the failure in EXCEPTION_MESSAGE (not after a cancellation: the run must stop).
    const extra = failure !== undefined && !signal.aborted && plan.onFailure ? [await this.runOnFailure(plan.onFailure, failure)] : [];

    // 4. Housekeeping after a success, still under the lock: objects of stages gone from the DAG, unused code bundles
    // (none in a namespace this run created).
    if (failure === undefined && !signal.aborted && this.options.prune !== false && !this.ctx.namespaceCreated) await pruneProject({ client, logger, spec, plan, namespace, signal });
    return this.finish(runReason, extra);
  }

  /** Stops the timer and the listeners, then releases the deploy lock (on every path: success, failure, cancellation). */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onCallerAbort);
    this.lock?.lost.removeEventListener('abort', this.onLost);
    await this.lock?.release();
  }

  /**
   * The namespace first (the deploy lock lives in it), then the lock (one run at a time per namespace), then what a
   * stale holder left running, then everything that writes: set-up objects and the given secrets, then the check of
   * the secrets the stages read. Resolves the reason the run cannot go on, if any.
   */
  private async prepare(): Promise<string | undefined> {
    const { client, logger, plan, runId } = this.options;
    const { ctx, controller } = this;
    try {
      const ensured = await ensureNamespace(ctx);
      if (ensured.podSecurity) ctx.podSecurity = ensured.podSecurity;
      if (ensured.created) ctx.namespaceCreated = true;
      const lockTimeoutMs = this.options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
      const holder = this.options.holder ?? defaultHolder(runId);
      this.lock = await acquireLock({ client, logger, namespace: ctx.namespace, holder, project: plan.labels[LABEL_PART_OF], signal: controller.signal, timeoutMs: lockTimeoutMs });
      this.lock.lost.addEventListener('abort', this.onLost, { once: true });
      if (this.lock.previousHolder !== undefined) {
        await stopStaleRun({ client, logger, namespace: ctx.namespace, previousHolder: this.lock.previousHolder, timeoutMs: lockTimeoutMs, signal: controller.signal });
      }
      await setupNamespace(ctx, { namespaceCreated: ensured.created });
      await applySecretValues({ ...ctx, labels: plan.labels }, this.options.secrets ?? []);
      return await this.checkSecrets();
    } catch (e) {
      if (controller.signal.aborted) return abortMessage(controller.signal);
      return e instanceof LockTimeoutError ? e.message : `unable to set up namespace=${ctx.namespace}: ${errorMessage(e)}`;
    }
  }

  /** The secrets and image pull secrets the stages need, checked (both only read: concurrently); the first problem. */
  private async checkSecrets(): Promise<string | undefined> {
    const { logger } = this.options;
    const [problems, pullProblems] = await Promise.all([checkSecrets(this.ctx), checkPullSecrets(this.ctx)]);
    if (problems.length > 0) {
      for (const p of problems) logger.error(p.message, p.problem);
      return problems.length === 1 ? `missing secret: ${problems[0].message}` : `${problems.length} missing secrets or keys; first: ${problems[0].message}`;
    }
    if (pullProblems.length > 0) {
      for (const p of pullProblems) logger.error(p);
      return pullProblems.length === 1 ? pullProblems[0] : `${pullProblems.length} image pull secret problems; first: ${pullProblems[0]}`;
    }
    return undefined;
  }

  /** Runs the steps in order until one fails or the run is aborted; resolves the failure, if any. */
  private async runSteps(): Promise<string | undefined> {
    const { logger, spec, plan } = this.options;
    let failure: string | undefined;
    const cleanups: Promise<string[]>[] = [];
    for (const [position, step] of plan.steps.entries()) {
      if (failure !== undefined || this.controller.signal.aborted) break;
      const names = step.stages.map((s) => s.stage);
      this.progress(position + 1, names);
      await logger.group(`Step ${step.index}/${spec.dag.length}: ${names.join(', ')}`, async () => {
        const outcomes = await Promise.all(step.stages.map((stage) => this.runStage(stage, step.index)));
        for (const r of outcomes) this.results.set(r.stage, r);
        const bad = outcomes.filter((r) => r.status !== 'succeeded');
        if (bad.length > 0) failure = bad.map(describeFailure).join('; ');
        // Off the critical path: the next step need not wait for earlier runs' Jobs to go (awaited below, under the lock).
        for (const s of step.stages) if (s.type === 'batch') cleanups.push(cleanupStageJobs(this.ctx, s, this.results.get(s.stage)));
      });
      this.progress(position + 1, []);
    }
    await Promise.all(cleanups);
    return failure;
  }

  private async runStage(stage: PlannedStage, step: number): Promise<StageResult> {
    try {
      if (stage.type === 'batch') return await (this.options.runBatchStage ?? runBatchStage)(this.ctx, stage, step);
      return await (this.options.runServiceStage ?? runServiceStage)(this.ctx, stage, step);
    } catch (e) {
      // Runners report failures; a throw is a bug or an API failure they did not catch.
      return { stage: stage.stage, type: stage.type, step, status: this.controller.signal.aborted ? 'cancelled' : 'failed', attempts: 0, reason: errorMessage(e) };
    }
  }

  /** The run_on_failure stage, told the failure in EXCEPTION_MESSAGE; its result as step 0. */
  private async runOnFailure(stage: PlannedBatchStage, failure: string): Promise<StageResult> {
    const onFailure = withStageEnv(stage, EXCEPTION_MESSAGE_ENV, failure);
    return this.options.logger.group(`On failure: ${onFailure.stage}`, async () => {
      let r: StageResult;
      try {
        r = await (this.options.runBatchStage ?? runBatchStage)(this.ctx, onFailure, 0);
      } catch (e) {
        r = { stage: onFailure.stage, type: 'batch', step: 0, status: 'failed', attempts: 0, reason: errorMessage(e) };
      }
      await cleanupStageJobs(this.ctx, onFailure, r);
      return { ...r, step: 0 };
    });
  }

  /** Tells the caller's observer where the run is; an observer that throws must not break the run. */
  private progress(position: number, running: string[]): void {
    const { plan, onProgress } = this.options;
    try {
      onProgress?.({ step: position, steps: plan.steps.length, running, stages: this.stageResults() });
    } catch {
      // Ignored: see above.
    }
  }

  private skipAll(reason: string): void {
    for (const [name, r] of this.results) if (r.status === 'skipped') this.results.set(name, { ...r, reason });
  }

  private stageResults(): StageResult[] {
    return this.options.plan.steps.flatMap((s) => s.stages.map((st) => this.results.get(st.stage)!));
  }

  private finish(runReason?: string, extra: StageResult[] = []): DeployResult {
    const { logger, plan } = this.options;
    clearTimeout(this.timer);
    const stages = [...this.stageResults(), ...extra];
    const ok = runReason === undefined && stages.every((s) => s.status === 'succeeded');
    const durationMs = Date.now() - this.started;
    if (ok) logger.info(`Deployment of ${plan.project} to namespace=${plan.namespace} succeeded in ${formatDuration(durationMs)}`);
    else logger.error(`Deployment of ${plan.project} to namespace=${plan.namespace} failed${runReason ? `: ${runReason}` : ''}`);
    const startedAt = new Date(this.started).toISOString();
    return { project: plan.project, namespace: plan.namespace, status: ok ? 'success' : 'failure', stages, startedAt, durationMs, ...(runReason !== undefined ? { reason: runReason } : {}) };
  }
}
