/**
 * The deploy plan: every Kubernetes object a Bodywork project needs, grouped by DAG step, in apply order.
 * A plan is pure data (no I/O went into it except the code bundle read beforehand), so it can be
 * rendered (`renderPlanYaml`), snapshot-tested, and executed step by step by the deploy engine.
 */
import type {
  V1ConfigMap,
  V1Deployment,
  V1Ingress,
  V1Job,
  V1Namespace,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
  V1Volume,
} from '@kubernetes/client-node';
import type { StageSpec } from '../config/spec.js';
import type { ScriptLimit, StartupCheck } from './limits.js';
import type { StageOverrideSummary } from './overrides.js';

/** Any object the plan creates. */
export type PlannedObject = V1Namespace | V1ServiceAccount | V1Role | V1RoleBinding | V1ConfigMap | V1Job | V1Deployment | V1Service | V1Ingress;

/** The project's files packed into immutable ConfigMaps, mounted into every stage pod as one projected volume. */
export interface CodeBundle {
  /** SHA-256 (hex) over every file path and content: the same files always give the same hash. */
  hash: string;
  /** The ConfigMaps, without a namespace (the plan sets it); one unless the project is larger than one ConfigMap holds. */
  configMaps: V1ConfigMap[];
  /** The projected volume that maps the ConfigMaps' flattened keys back to the project's paths (mounted at `CODE_MOUNT_PATH`). */
  volume: V1Volume;
  /** Files in the bundle, relative to the project root, forward slashes, sorted. */
  files: string[];
  /** The same files with their size in bytes and SHA-256 (hex): what summaries list instead of contents. */
  entries: { path: string; bytes: number; sha256: string }[];
  /** Bytes of file content (before base64). */
  totalBytes: number;
}

/** Settings that are not part of the project config: where and what to deploy. */
export interface PlanOptions {
  /** Target namespace; defaults to the config's namespace, else the project name (made a valid name). */
  namespace?: string;
  /** Image for every stage, replacing the project's `DOCKER_IMAGE` / `docker_image`. */
  image?: string;
  /** The git commit being deployed (hex, 4-40 characters): `GIT_COMMIT_HASH` env var, label and annotation. */
  commitSha?: string;
  /**
   * An id of this deployment run: a pod-template annotation, so every run rolls the pods, and the suffix of the
   * Jobs' names (`<name>-<run id>`, as the run creates them).
   */
  runId?: string;
  /** `spec.ingressClassName` for service stages with ingress; when absent, `deployProject` sets the cluster's default class, else `nginx`. */
  ingressClass?: string;
  /** Plan only these stages (by their config name); steps left empty are dropped. */
  stages?: string[];
  /** The project code to mount (stages run in a writable copy of it); without it the image must already hold the project at `PROJECT_MOUNT_PATH`. */
  codeBundle?: CodeBundle;
  /**
   * Where the stages get the project code: `bundle` (default) mounts `codeBundle`; `git` clones the repository at
   * exactly `commit` (40 hex digits) into an `emptyDir` with an init container, and `codeBundle` is ignored.
   */
  codeSource?: CodeSource;
  /** With the `git` code source: the project's directory inside the repository (`ml/pipeline`), when not its root. */
  repoSubdir?: string;
  /** A PR preview: the Namespace is labelled with the pull request and annotated with its repository (`owner/name`). */
  preview?: { pr: number; repository: string };
  /** Existing Secrets (docker config) every stage pod pulls its images with: `imagePullSecrets` of the pod templates. */
  imagePullSecrets?: string[];
}

export type CodeSource =
  | { type: 'bundle' }
  | {
      type: 'git';
      /** The repository to clone (`https://github.com/acme/iris.git`); no credentials in it. */
      url: string;
      /** The commit to check out: a full 40-hex SHA. */
      commit: string;
      /** A Secret in the namespace whose `token` key authenticates the clone over HTTPS. */
      tokenSecret?: string;
    };

interface PlannedStageBase {
  /** The stage's name in the config (`stage-1-train-model`, `stage_1`). */
  stage: string;
  /** The stage as configured. */
  spec: StageSpec;
  /**
   * The Kubernetes name of the stage's objects (`stageObjectName`), also the `stage` label of its Job, Service and
   * Ingress; per-run Job names derive from it (`runJobName`). A Deployment's `stage` label is `selector`'s.
   */
  baseName: string;
  /** Labels that select the stage's pods (stable across runs). */
  selector: Record<string, string>;
  /** The stage's objects in apply order. */
  objects: PlannedObject[];
}

export interface PlannedBatchStage extends PlannedStageBase {
  type: 'batch';
  job: V1Job;
  /** The script's per-attempt limit (limits.ts), when it has one. */
  scriptLimit?: ScriptLimit;
}

export interface PlannedServiceStage extends PlannedStageBase {
  type: 'service';
  deployment: V1Deployment;
  service: V1Service;
  ingress?: V1Ingress;
  /** In-cluster URL: `http://<service>.<namespace>.svc.cluster.local:<port>`. */
  url: string;
  /** Path the ingress routes to the service (`/<namespace>/<service>`), when it has one. */
  ingressPath?: string;
  /**
   * How MAX_STARTUP_TIME_SECONDS is enforced (limits.ts): by a startup probe, or by the deploy's wait alone; the
   * deploy waits `seconds + graceSeconds` per wave of new pods (plus its own grace).
   */
  startup: { check: StartupCheck; seconds: number; graceSeconds: number; setting: string };
}

export type PlannedStage = PlannedBatchStage | PlannedServiceStage;

/** One DAG step: its stages run concurrently; the next step starts when all of them succeeded. */
export interface PlannedStep {
  /** 1-based position of the step in the project's DAG (kept when `stages` selects a subset). */
  index: number;
  stages: PlannedStage[];
}

export interface DeployPlan {
  /** The project name from the config. */
  project: string;
  namespace: string;
  /** The image every stage runs. */
  image: string;
  /** Labels on every planned object of this project (select them all with these). */
  labels: Record<string, string>;
  /** Namespace, ServiceAccount, Role, RoleBinding and the code ConfigMaps, in apply order. */
  setup: PlannedObject[];
  steps: PlannedStep[];
  /** The `run_on_failure` batch stage, planned but not part of any step. */
  onFailure?: PlannedBatchStage;
  /** The files of the code bundle (path, size, sha256), when the stages mount one: what summaries list. */
  codeFiles?: CodeBundle['entries'];
  /** The project's pod overrides file (bodywork-deploy.yaml), when it has one, and what it sets in each stage's pod. */
  overrides?: { file: string; stages: StageOverrideSummary[] };
  /** The Secrets the stage pods pull their images with, when any: the deploy checks they exist first. */
  imagePullSecrets?: string[];
}
