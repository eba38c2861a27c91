/**
 * The deploy engine's shared model: what a run is given (DeployContext), and what it reports
 * (StageResult, DeployResult). The action's summary and outputs and the CLI all render DeployResult.
 */
import type { ProjectSpec } from '../config/spec.js';
import type { KubeClient } from '../kube/index.js';
import type { Logger } from '../logger.js';
import type { DeployPlan, PlannedBatchStage, PlannedServiceStage } from '../plan/index.js';

export type StageStatus = 'succeeded' | 'failed' | 'rolled-back' | 'skipped' | 'cancelled';

export interface StageResult {
  /** The stage's name in the config. */
  stage: string;
  type: 'batch' | 'service';
  /** 1-based DAG step (0 for the run_on_failure stage). */
  step: number;
  status: StageStatus;
  /** Batch: pods run (1 + retries used). Service: 1. 0 when skipped. */
  attempts: number;
  /** When the stage started (ISO 8601), absent when skipped. */
  startedAt?: string;
  durationMs?: number;
  /** The Kubernetes object that ran the stage: `Job/<name>` or `Deployment/<name>`. */
  object?: string;
  /** Service stages: `http://<service>.<namespace>.svc.cluster.local:<port>`. */
  url?: string;
  /** Service stages with an ingress: the public URL, when one is known. */
  publicUrl?: string;
  /** Service stages: ready/desired replicas at the end of the stage. */
  readyReplicas?: number;
  replicas?: number;
  /** Why it failed, was rolled back, skipped or cancelled: one line. */
  reason?: string;
  /** The last log lines of the failing pod(s) (or of the stage), oldest first, prefixed with the pod name. */
  logTail?: string[];
  /** Failed stages: the Warning events of the failing pods (pod-events.ts), oldest first. */
  events?: StageEvent[];
}

/** One Kubernetes Event about a stage's pod, as `kubectl describe` lists it. */
export interface StageEvent {
  /** `Pod/<name>`. */
  object: string;
  /** FailedScheduling, Failed, BackOff, Unhealthy, ... */
  reason: string;
  /** One line. */
  message: string;
  count: number;
  /** ISO 8601. */
  lastSeen?: string;
}

export interface DeployResult {
  project: string;
  namespace: string;
  status: 'success' | 'failure';
  /** Every stage of the plan in DAG order (plus the run_on_failure stage, if it ran). */
  stages: StageResult[];
  startedAt: string;
  durationMs: number;
  /** The run-level failure (config, cluster access, lock, timeout), when not a stage's. */
  reason?: string;
}

/** A run's progress, as a step starts or ends (DeployOptions.onProgress): what the in-cluster runner records. */
export interface DeployProgress {
  /** 1-based position of the step in the plan. */
  step: number;
  steps: number;
  /** The stages running now (empty once the step ended). */
  running: string[];
  /** Every stage of the plan in DAG order: finished ones with their result, the others `skipped` with reason `not run`. */
  stages: StageResult[];
}

/** Everything a stage runner needs; one per run. */
export interface DeployContext {
  client: KubeClient;
  logger: Logger;
  spec: ProjectSpec;
  plan: DeployPlan;
  namespace: string;
  /** This run's id: per-run Job names and the pod-template annotation derive from it. */
  runId: string;
  /** Aborted on cancellation (SIGINT/SIGTERM, the action's cancel) or the overall timeout. */
  signal: AbortSignal;
  /**
   * The one channel of stage log lines, as they arrive, already prefixed with the stage (`[stage-1] ...`); without it
   * they go to `logger.info` instead (never to both: stage-log.ts).
   */
  onLogLine?: (stage: string, line: string) => void;
  /** Finished Jobs kept per batch stage after each step (default 1, the latest; 0 deletes them all). */
  keepJobs?: number;
  /** The Pod Security level the namespace enforces (pod-security.ts), once the namespace is known. */
  podSecurity?: string;
  /**
   * This run created the namespace, so nothing of the project was in it before: no earlier Deployment to find, no
   * earlier runs' Jobs to clean up, nothing to prune. Those lookups are skipped (a first deploy, a new PR preview).
   */
  namespaceCreated?: boolean;
}

/** Runs one batch stage's Job to completion: never throws for a stage failure, only reports it. */
export type BatchStageRunner = (ctx: DeployContext, stage: PlannedBatchStage, step: number) => Promise<StageResult>;
/** Rolls one service stage out (and back, on failure): never throws for a stage failure, only reports it. */
export type ServiceStageRunner = (ctx: DeployContext, stage: PlannedServiceStage, step: number) => Promise<StageResult>;
