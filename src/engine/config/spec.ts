/**
 * The typed model of a Bodywork project, whichever format it was written in
 * (`bodywork.ini` + per-stage `config.ini`, or `bodywork.yaml` schema 1.0/1.1).
 * Everything downstream (plan, deploy, action, CLI) works from this model only.
 */

/** Where something was written: a file relative to the project directory, and a 1-based line. */
export interface SourceRef {
  file: string;
  line?: number;
  column?: number;
}

export interface BatchSpec {
  /**
   * Upper bound of one attempt (Job activeDeadlineSeconds is per Job, so the deployer bounds attempts). 0 means no
   * limit on the script: schema "1.1" only, as Bodywork 3 read `max_completion_time_seconds: 0`.
   */
  maxCompletionTimeSeconds: number;
  /** Retries after the first attempt (Job backoffLimit). */
  retries: number;
}

export interface ServiceSpec {
  maxStartupTimeSeconds: number;
  replicas: number;
  port: number;
  ingress: boolean;
}

/** A stage's reference to a key of a Kubernetes Secret, exposed as an environment variable. */
export interface SecretRef {
  /** Environment variable name inside the container. */
  env: string;
  /** Name of the Kubernetes Secret in the target namespace. */
  secret: string;
  /** Key inside the Secret (Bodywork uses the variable name as the key). */
  key: string;
  source: SourceRef;
}

export interface StageSpec {
  name: string;
  type: 'batch' | 'service';
  /** Script to run, relative to the project root, forward slashes (e.g. `stage-1-train-model/train_model.py`). */
  executable: string;
  args: string[];
  cpuRequest: number;
  memoryRequestMb: number;
  /** pip requirement specifiers (YAML `requirements`, or the lines of `requirements.txt`). */
  requirements: string[];
  /** `requirements.txt` relative to the project root, when the stage has one (INI layout). */
  requirementsFile?: string;
  secrets: SecretRef[];
  batch?: BatchSpec;
  service?: ServiceSpec;
  /** Where the stage is configured (its `config.ini`, or its key in `bodywork.yaml`). */
  source: SourceRef;
}

/**
 * Pod fields of one stage (or of every stage) from the overrides file, checked against the Kubernetes schema and the
 * deployer's contract (config/overrides.ts): JSON, merged into the planned pod template by strategic merge.
 */
export interface PodOverride {
  /** The pod template's fields: PodSpec fields, and `metadata` with `labels` and `annotations`. */
  pod?: { [key: string]: unknown };
  /** Fields of the stage's container. */
  container?: { [key: string]: unknown };
  /** Where it is written (the `defaults` key, or the stage's key under `stages`). */
  source: SourceRef;
}

/** The overrides file (`bodywork-deploy.yaml` next to the project config), when the project has one. */
export interface PodOverrides {
  /** The file relative to the project root. */
  file: string;
  /** Merged into every stage's pod first. */
  defaults?: PodOverride;
  /** Merged after the defaults, by stage name (the names of `stages` in the project config). */
  stages: Record<string, PodOverride>;
}

export interface ProjectSpec {
  format: 'ini' | 'yaml';
  /** YAML schema version ('1.0' uses `project:`, '1.1' uses `pipeline:`); absent for INI. */
  schemaVersion?: '1.0' | '1.1';
  /** Absolute path of the project directory. */
  root: string;
  /** The project file relative to root: `bodywork.yaml`, `bodywork.yml` or `bodywork.ini`. */
  configFile: string;
  name: string;
  image: string;
  /** Namespace from the config (YAML `pipeline.namespace`), if any. */
  namespace?: string;
  /** Steps in order; the stages of a step run concurrently. */
  dag: string[][];
  dagSource: SourceRef;
  /** Every configured stage, including ones the DAG does not use. */
  stages: Record<string, StageSpec>;
  /** Batch stage to run when a stage fails (YAML `run_on_failure`). */
  runOnFailure?: string;
  logLevel: string;
  /** Per-stage pod overrides (`bodywork-deploy.yaml`), when the project has the file. */
  overrides?: PodOverrides;
}
