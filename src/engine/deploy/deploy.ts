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
  const cleanup: (() => void)[] = [];
  const held: { lock?: DeployLock } = {};
  try {
    // Ingresses without a class get the cluster's default class, else nginx (ingress-class.ts).
    let plan = options.plan;
    if (needsIngressClass(plan)) {
      const className = await resolveIngressClass(options.client, options.logger, options.signal);
      if (className !== undefined) plan = withIngressClass(plan, className);
    }
    return await run({ ...options, plan }, cleanup, held);
  } finally {
    for (const fn of cleanup) fn();
    // The deploy lock goes last, on every path (success, failure, cancellation).
    await held.lock?.release();
  }
}

async function run(options: DeployOptions, cleanup: (() => void)[], held: { lock?: DeployLock }): Promise<DeployResult> {
  const { client, logger, spec, plan, runId } = options;
  if (options.keepJobs !== undefined && (!Number.isInteger(options.keepJobs) || options.keepJobs < 0)) {
    throw new RangeError(`keepJobs must be a whole number of 0 or more, got ${options.keepJobs}`);
  }
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const namespace = plan.namespace;
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(options.signal?.reason instanceof Error && options.signal.reason.name !== 'AbortError' ? options.signal.reason : new Error('the deployment was cancelled'));
  if (options.signal?.aborted) onCallerAbort();
  else options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const timer =
    options.timeoutMs !== undefined ? setTimeout(() => controller.abort(new Error(`the deployment timed out after ${formatDuration(options.timeoutMs!)}`)), options.timeoutMs) : undefined;
  cleanup.push(() => {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  });

  // The API discovery of every kind the run writes, fetched at once rather than as each kind is first used.
  const kinds = [...plan.setup, ...plan.steps.flatMap((s) => s.stages.flatMap((st) => st.objects))].map((o) => ({ apiVersion: o.apiVersion ?? 'v1', kind: o.kind ?? '' }));
  client.warmDiscovery([{ apiVersion: 'v1', kind: 'Namespace' }, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' }, ...kinds.filter((k) => k.kind !== '')]);

  const ctx: DeployContext = {
    client,
    logger,
    spec,
    plan,
    namespace,
    runId,
    signal: controller.signal,
    ...(options.onLogLine ? { onLogLine: options.onLogLine } : {}),
    ...(options.keepJobs !== undefined ? { keepJobs: options.keepJobs } : {}),
  };
  const batch = options.runBatchStage ?? runBatchStage;
  const service = options.runServiceStage ?? runServiceStage;
  const results = new Map<string, StageResult>();
  for (const step of plan.steps) for (const stage of step.stages) results.set(stage.stage, skipped(stage, step.index, 'not run'));

  const finish = (runReason?: string, extra: StageResult[] = []): DeployResult => {
    clearTimeout(timer);
    const stages = [...plan.steps.flatMap((s) => s.stages.map((st) => results.get(st.stage)!)), ...extra];
    const ok = runReason === undefined && stages.every((s) => s.status === 'succeeded');
    const durationMs = Date.now() - started;
    if (ok) logger.info(`Deployment of ${plan.project} to namespace=${namespace} succeeded in ${formatDuration(durationMs)}`);
    else logger.error(`Deployment of ${plan.project} to namespace=${namespace} failed${runReason ? `: ${runReason}` : ''}`);
    return { project: plan.project, namespace, status: ok ? 'success' : 'failure', stages, startedAt, durationMs, ...(runReason !== undefined ? { reason: runReason } : {}) };
  };
  const skipAll = (reason: string) => {
    for (const [name, r] of results) if (r.status === 'skipped') results.set(name, { ...r, reason });
  };

  logger.info(`Deploying ${plan.project} to namespace=${namespace} (run ${runId})`);

  // 1. Namespace and secrets: nothing runs unless both are in order. run_on_failure does not run for these (as Bodywork).
  // The namespace first (the deploy lock lives in it), then the lock (one run at a time per namespace), then what a
  // stale holder left running, then everything that writes: set-up objects and the given secrets, then the check.
  try {
    const ensured = await ensureNamespace(ctx);
    if (ensured.podSecurity) ctx.podSecurity = ensured.podSecurity;
    const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    held.lock = await acquireLock({
      client,
      logger,
      namespace,
      holder: options.holder ?? defaultHolder(runId),
      project: plan.labels[LABEL_PART_OF],
      signal: controller.signal,
      timeoutMs: lockTimeoutMs,
    });
    const lost = held.lock.lost;
    const onLost = () => controller.abort(lost.reason);
    lost.addEventListener('abort', onLost, { once: true });
    cleanup.push(() => lost.removeEventListener('abort', onLost));
    if (held.lock.previousHolder !== undefined) {
      await stopStaleRun({ client, logger, namespace, previousHolder: held.lock.previousHolder, timeoutMs: lockTimeoutMs, signal: controller.signal });
    }
    await setupNamespace(ctx, { namespaceCreated: ensured.created });
    await applySecretValues({ ...ctx, labels: plan.labels }, options.secrets ?? []);
    // Both only read: concurrently.
    const [problems, pullProblems] = await Promise.all([checkSecrets(ctx), checkPullSecrets(ctx)]);
    if (problems.length > 0) {
      for (const p of problems) logger.error(p.message, p.problem);
      const reason =
        problems.length === 1 ? `missing secret: ${problems[0].message}` : `${problems.length} missing secrets or keys; first: ${problems[0].message}`;
      skipAll(`not run: ${reason}`);
      return finish(reason);
    }
    if (pullProblems.length > 0) {
      for (const p of pullProblems) logger.error(p);
      const reason = pullProblems.length === 1 ? pullProblems[0] : `${pullProblems.length} image pull secret problems; first: ${pullProblems[0]}`;
      skipAll(`not run: ${reason}`);
      return finish(reason);
    }
  } catch (e) {
    const reason = controller.signal.aborted
      ? abortMessage(controller.signal)
      : e instanceof LockTimeoutError
        ? e.message
        : `unable to set up namespace=${namespace}: ${errorMessage(e)}`;
    skipAll(`not run: ${reason}`);
    return finish(reason);
  }

  // 2. The DAG, step by step; every stage of a step at once.
  let failure: string | undefined;
  const progress = (position: number, running: string[]) => {
    try {
      options.onProgress?.({ step: position, steps: plan.steps.length, running, stages: plan.steps.flatMap((s) => s.stages.map((st) => results.get(st.stage)!)) });
    } catch {
      // A progress observer must not break the run.
    }
  };
  for (const [position, step] of plan.steps.entries()) {
    if (failure !== undefined || controller.signal.aborted) break;
    const names = step.stages.map((s) => s.stage);
    progress(position + 1, names);
    await logger.group(`Step ${step.index}/${spec.dag.length}: ${names.join(', ')}`, async () => {
      const outcomes = await Promise.all(
        step.stages.map(async (stage): Promise<StageResult> => {
          try {
            if (stage.type === 'batch') return await batch(ctx, stage, step.index);
            return await service(ctx, stage, step.index);
          } catch (e) {
            // Runners report failures; a throw is a bug or an API failure they did not catch.
            return { stage: stage.stage, type: stage.type, step: step.index, status: controller.signal.aborted ? 'cancelled' : 'failed', attempts: 0, reason: errorMessage(e) };
          }
        }),
      );
      for (const r of outcomes) results.set(r.stage, r);
      const bad = outcomes.filter((r) => r.status !== 'succeeded');
      if (bad.length > 0) failure = bad.map(describeFailure).join('; ');
      await Promise.all(step.stages.filter((s) => s.type === 'batch').map((s) => cleanupStageJobs(ctx, s, results.get(s.stage))));
    });
    progress(position + 1, []);
  }

  const aborted = controller.signal.aborted;
  const runReason = aborted ? abortMessage(controller.signal) : undefined;
  if (failure !== undefined || aborted) skipAll(`not run: ${aborted ? runReason : `an earlier step failed (${failure})`}`);

  // 3. run_on_failure, with the failure in EXCEPTION_MESSAGE (not after a cancellation: the run must stop).
  const extra: StageResult[] = [];
  if (failure !== undefined && !aborted && plan.onFailure) {
    const onFailure = withStageEnv(plan.onFailure, EXCEPTION_MESSAGE_ENV, failure);
    await logger.group(`On failure: ${onFailure.stage}`, async () => {
      let r: StageResult;
      try {
        r = await batch(ctx, onFailure, 0);
      } catch (e) {
        r = { stage: onFailure.stage, type: 'batch', step: 0, status: 'failed', attempts: 0, reason: errorMessage(e) };
      }
      extra.push({ ...r, step: 0 });
      await cleanupStageJobs(ctx, onFailure, r);
    });
  }

  // 4. Housekeeping after a success, still under the lock: objects of stages gone from the DAG, unused code bundles.
  if (failure === undefined && !aborted && options.prune !== false) await pruneProject({ client, logger, spec, plan, namespace, signal: controller.signal });
  return finish(runReason, extra);
}
