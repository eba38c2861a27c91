/**
 * `planProject`: a pure function from a loaded project to every Kubernetes object its deployment needs.
 * Bodywork's objects (bodywork-behaviour.md §2.1-2.4) are the baseline; the deliberate differences are
 * noted where they are made (names valid and bounded, each attempt's script bounded, readiness probes, a rollout
 * that never drops below the desired ready replicas, the deployed code copied into a writable working copy instead
 * of cloned). Time limits and probes per format are limits.ts's; the container command is command.ts's.
 */
import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1Ingress,
  V1Job,
  V1Namespace,
  V1PodSpec,
  V1ResourceRequirements,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { isDns1123Label, isDns1123Subdomain } from '../kube/names.js';
import type { ProjectSpec, StageSpec } from '../config/spec.js';
import { CODE_MOUNT_PATH, notebookEnv, PROJECT_MOUNT_PATH, stageCommand, WORKING_COPY_VOLUME_NAME } from './command.js';
import { checkGitSource, gitCode } from './git-source.js';
import { ANNOTATION_PREVIEW_REPOSITORY, ANNOTATION_STAGE, LABEL_PART_OF, LABEL_PREVIEW_PR, projectLabels, runAnnotations, stageLabels, stageLabelValue, stageSelector } from './labels.js';
import { checkPullSecretNames, pullSecretsField } from './pull-secrets.js';
import { limitSetting, progressDeadlineSeconds, scriptLimit, serviceProbes, startupCheck, startupGraceSeconds } from './limits.js';
import { runJobName, stageObjectName, toDnsLabel } from './names.js';
import { applyPodOverrides, planOverrides } from './overrides.js';
import type {
  CodeBundle,
  DeployPlan,
  PlanOptions,
  PlannedBatchStage,
  PlannedObject,
  PlannedServiceStage,
  PlannedStage,
  PlannedStep,
} from './types.js';

/** ServiceAccount, Role and RoleBinding every stage pod runs as (Bodywork 3's name). */
export const STAGE_SERVICE_ACCOUNT = 'bodywork-stage';
/** Name of the stage container (Bodywork's). */
export const CONTAINER_NAME = 'bodywork';
/** A new service pod may be started this many above the desired replicas during a rollout (Bodywork 3.0.12's maxSurge). */
export const MAX_SURGE = 2;
/** Length of the commit hash in `GIT_COMMIT_HASH` and the `git-commit-hash` label (`git rev-parse --short`). */
export const SHORT_SHA_LENGTH = 7;

/** An option or project the plan cannot be made from (bad namespace, unknown stage, clashing names). */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/** The namespace a project deploys to: the option if given (must be valid), else the config's namespace or the project name, made valid. */
export function planNamespace(spec: Pick<ProjectSpec, 'namespace' | 'name'>, option?: string): string {
  if (option !== undefined) {
    if (!isDns1123Label(option)) {
      throw new PlanError(
        `namespace '${option}' is not a valid Kubernetes namespace name: expected at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit`,
      );
    }
    return option;
  }
  return toDnsLabel(spec.namespace ?? spec.name);
}

/** CPU cores as a quantity: millicores (`500m`), or whole cores (`2`). Undefined when zero, as Bodywork omits it. */
export function cpuQuantity(cores: number): string | undefined {
  const milli = Math.round(cores * 1000);
  if (milli <= 0) return undefined;
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/**
 * Memory as a quantity in megabytes (`100M` = 10^8 bytes), exactly as Bodywork requested it: the setting
 * is called MEMORY_REQUEST_MB, and `Mi` would silently ask for 4.9% more. Undefined when zero.
 */
export function memoryQuantity(megabytes: number): string | undefined {
  return megabytes > 0 ? `${megabytes}M` : undefined;
}

interface Context {
  spec: ProjectSpec;
  project: string;
  namespace: string;
  image: string;
  commitSha?: string;
  shortSha?: string;
  runId?: string;
  ingressClass?: string;
  /** The code bundle whose ConfigMaps the set-up applies (the `bundle` code source). */
  bundle?: CodeBundle;
  /** How stage pods get the code: a volume, the stage container's read-only mount of it, init containers filling it. */
  code?: { volume: V1Volume; mount: V1VolumeMount; initContainers: V1Container[] };
  preview?: { pr: number; repository: string };
  /** Secrets every stage pod pulls its images with (pull-secrets.ts). */
  imagePullSecrets?: string[];
}

/**
 * Plans the deployment of `spec`: the namespace and its stage ServiceAccount/RBAC, the code ConfigMaps,
 * then per DAG step each stage's Job (batch) or Deployment + Service (+ Ingress) (service).
 * Pure: the same spec and options always give the same plan. Throws `PlanError` for bad options.
 */
export function planProject(spec: ProjectSpec, options: PlanOptions = {}): DeployPlan {
  const commitSha = options.commitSha?.toLowerCase();
  if (commitSha !== undefined && !/^[0-9a-f]{4,40}$/.test(commitSha)) {
    throw new PlanError(`commit '${options.commitSha}' is not a git commit hash: expected 4 to 40 hex digits`);
  }
  const image = options.image ?? spec.image;
  if (image.trim() === '' || /\s/.test(image)) throw new PlanError(`image '${image}' is not a valid image reference`);
  if (options.ingressClass !== undefined && !isDns1123Subdomain(options.ingressClass)) throw new PlanError(`ingress class '${options.ingressClass}' is not a valid IngressClass name`);
  const ctx: Context = {
    spec,
    project: toDnsLabel(spec.name),
    namespace: planNamespace(spec, options.namespace),
    image,
    ...(commitSha !== undefined ? { commitSha, shortSha: commitSha.slice(0, SHORT_SHA_LENGTH) } : {}),
    ...(options.runId !== undefined ? { runId: options.runId } : {}),
    ...(options.ingressClass !== undefined ? { ingressClass: options.ingressClass } : {}),
  };
  if (options.preview !== undefined) {
    const { pr, repository } = options.preview;
    if (!Number.isSafeInteger(pr) || pr < 1) throw new PlanError(`pull request number ${pr} is not a positive whole number`);
    if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new PlanError(`repository '${repository}' is not <owner>/<name>`);
    ctx.preview = { pr, repository };
  }
  const source = options.codeSource ?? { type: 'bundle' };
  if (source.type === 'git') {
    const checked = checkGitSource(source, options.repoSubdir);
    if ('error' in checked) throw new PlanError(checked.error);
    const git = gitCode(source, checked.repoSubdir);
    ctx.code = { volume: git.volume, mount: git.mount, initContainers: [git.initContainer] };
  } else if (options.codeBundle !== undefined) {
    ctx.bundle = options.codeBundle;
    ctx.code = { volume: options.codeBundle.volume, mount: { name: options.codeBundle.volume.name, mountPath: CODE_MOUNT_PATH, readOnly: true }, initContainers: [] };
  }
  if (options.imagePullSecrets !== undefined) {
    const checked = checkPullSecretNames(options.imagePullSecrets);
    if ('error' in checked) throw new PlanError(checked.error);
    if (checked.names.length > 0) ctx.imagePullSecrets = checked.names;
  }
  checkDistinctNames(spec);

  const wanted = options.stages !== undefined ? new Set(options.stages) : undefined;
  if (wanted !== undefined) {
    const inDag = new Set(spec.dag.flat());
    const unknown = [...wanted].filter((s) => !inDag.has(s));
    if (unknown.length > 0) {
      throw new PlanError(`unknown stage${unknown.length === 1 ? '' : 's'} ${unknown.map((s) => `'${s}'`).join(', ')}: the DAG has ${[...inDag].join(', ')}`);
    }
  }

  const steps: PlannedStep[] = [];
  spec.dag.forEach((names, i) => {
    const stages = names.filter((name) => wanted === undefined || wanted.has(name)).map((name) => planStage(ctx, stageSpec(spec, name)));
    if (stages.length > 0) steps.push({ index: i + 1, stages });
  });

  let onFailure: PlannedBatchStage | undefined;
  if (spec.runOnFailure !== undefined) {
    const planned = planStage(ctx, stageSpec(spec, spec.runOnFailure));
    if (planned.type !== 'batch') throw new PlanError(`run_on_failure stage '${spec.runOnFailure}' must be a batch stage`);
    onFailure = planned;
  }

  return {
    project: spec.name,
    namespace: ctx.namespace,
    image,
    labels: projectLabels(ctx.project),
    setup: planSetup(ctx),
    steps,
    ...(onFailure !== undefined ? { onFailure } : {}),
    ...(ctx.bundle !== undefined ? { codeFiles: ctx.bundle.entries } : {}),
    ...planOverrides(spec, { steps, onFailure }),
    ...(ctx.imagePullSecrets !== undefined ? { imagePullSecrets: ctx.imagePullSecrets } : {}),
  };
}

function stageSpec(spec: ProjectSpec, name: string): StageSpec {
  const stage = spec.stages[name];
  if (stage === undefined) throw new PlanError(`stage '${name}' is in the DAG but not configured`);
  return stage;
}

/** Two stages whose names differ only in characters a Kubernetes name cannot hold (`stage_1`, `stage-1`) would share objects. */
function checkDistinctNames(spec: ProjectSpec): void {
  const byName = new Map<string, string[]>();
  const deployed = new Set([...spec.dag.flat(), ...(spec.runOnFailure !== undefined ? [spec.runOnFailure] : [])]);
  for (const stage of deployed) {
    const name = stageObjectName(spec, stage);
    byName.set(name, [...(byName.get(name) ?? []), stage]);
  }
  const clashes = [...byName].filter(([, stages]) => stages.length > 1);
  if (clashes.length > 0) {
    throw new PlanError(
      clashes.map(([name, stages]) => `stages ${stages.map((s) => `'${s}'`).join(' and ')} would share the Kubernetes name '${name}'; rename one`).join('; '),
    );
  }
}

// Set-up objects

function planSetup(ctx: Context): PlannedObject[] {
  const labels = projectLabels(ctx.project);
  const meta = (name: string) => ({ name, namespace: ctx.namespace, labels: { ...labels, app: 'bodywork' } });
  const namespace: V1Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: ctx.preview
      ? { name: ctx.namespace, labels: { ...labels, [LABEL_PREVIEW_PR]: String(ctx.preview.pr) }, annotations: { [ANNOTATION_PREVIEW_REPOSITORY]: ctx.preview.repository } }
      : { name: ctx.namespace, labels },
  };
  const serviceAccount: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(STAGE_SERVICE_ACCOUNT) };
  // Bodywork's stage Role: stages may read secrets and config maps in their namespace, nothing else.
  const role: V1Role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(STAGE_SERVICE_ACCOUNT),
    rules: [{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list'] }],
  };
  const roleBinding: V1RoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(STAGE_SERVICE_ACCOUNT),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: STAGE_SERVICE_ACCOUNT },
    subjects: [{ kind: 'ServiceAccount', name: STAGE_SERVICE_ACCOUNT, namespace: ctx.namespace }],
  };
  const configMaps = (ctx.bundle?.configMaps ?? []).map((cm) => ({
    ...cm,
    metadata: { ...cm.metadata, namespace: ctx.namespace, labels: { ...labels, ...cm.metadata?.labels } },
  }));
  return [namespace, serviceAccount, role, roleBinding, ...configMaps];
}

// Stages

function planStage(ctx: Context, stage: StageSpec): PlannedStage {
  const name = stageObjectName(ctx.spec, stage.name);
  if (stage.type === 'batch') return planBatchStage(ctx, stage, name);
  return planServiceStage(ctx, stage, name);
}

/** Metadata of a stage object named `name`; its `stage` label is `label` (default: the name). */
function objectMeta(ctx: Context, stage: StageSpec, name: string, label = name) {
  return {
    name,
    namespace: ctx.namespace,
    labels: stageLabels(ctx.project, label, stage.type, ctx.shortSha),
    annotations: { [ANNOTATION_STAGE]: stage.name, ...runAnnotations(ctx.commitSha, ctx.runId) },
  };
}

/** Pod-template metadata: the stage's labels, and the run annotations (a new run id rolls a Deployment's pods). */
function podMeta(ctx: Context, stage: StageSpec, label: string) {
  const annotations = runAnnotations(ctx.commitSha, ctx.runId);
  return {
    labels: stageLabels(ctx.project, label, stage.type, ctx.shortSha),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

function container(ctx: Context, stage: StageSpec): V1Container {
  const limit = scriptLimit(ctx.spec, stage);
  const env: V1EnvVar[] = [
    { name: 'BODYWORK_STAGE', value: stage.name },
    ...(ctx.shortSha !== undefined ? [{ name: 'GIT_COMMIT_HASH', value: ctx.shortSha }] : []),
    // Bodywork 2.1.7+ put the project root on the path, so stages can import shared modules.
    { name: 'PYTHONPATH', value: PROJECT_MOUNT_PATH },
    // Stage output reaches the pod log as it is written, not when a buffer fills.
    { name: 'PYTHONUNBUFFERED', value: '1' },
    // A notebook's Jupyter state in the writable working copy, whatever the pod's user and its HOME (command.ts).
    ...notebookEnv(stage),
    ...stage.secrets.map((s) => ({ name: s.env, valueFrom: { secretKeyRef: { name: s.secret, key: s.key } } })),
  ];
  const requests: Record<string, string> = {};
  const cpu = cpuQuantity(stage.cpuRequest);
  const memory = memoryQuantity(stage.memoryRequestMb);
  if (cpu !== undefined) requests.cpu = cpu;
  if (memory !== undefined) requests.memory = memory;
  const resources: V1ResourceRequirements | undefined = Object.keys(requests).length > 0 ? { requests } : undefined;
  return {
    name: CONTAINER_NAME,
    image: ctx.image,
    // With mounted code, the command first copies it into the writable working copy (command.ts).
    command: stageCommand(stage, PROJECT_MOUNT_PATH, { ...(ctx.code ? { copyFrom: CODE_MOUNT_PATH } : {}), limitSeconds: limit?.seconds, limitSetting: limit?.setting }),
    env,
    ...(resources !== undefined ? { resources } : {}),
    ...(ctx.code !== undefined ? { volumeMounts: [ctx.code.mount, { name: WORKING_COPY_VOLUME_NAME, mountPath: PROJECT_MOUNT_PATH }] } : {}),
  };
}

function podSpec(ctx: Context, extra: Partial<V1PodSpec>, main: V1Container): V1PodSpec {
  return {
    ...extra,
    serviceAccountName: STAGE_SERVICE_ACCOUNT,
    ...pullSecretsField(ctx.imagePullSecrets),
    ...(ctx.code !== undefined && ctx.code.initContainers.length > 0 ? { initContainers: ctx.code.initContainers } : {}),
    containers: [main],
    ...(ctx.code !== undefined ? { volumes: [ctx.code.volume, { name: WORKING_COPY_VOLUME_NAME, emptyDir: {} }] } : {}),
  };
}

function planBatchStage(ctx: Context, stage: StageSpec, name: string): PlannedBatchStage {
  const batch = stage.batch;
  if (batch === undefined) throw new PlanError(`batch stage '${stage.name}' has no batch settings`);
  const limit = scriptLimit(ctx.spec, stage);
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    // With a run id, the Job is named as the run creates it (`<name>-<run id>`); its `stage` label stays `<name>`.
    metadata: { ...objectMeta(ctx, stage, name), ...(ctx.runId !== undefined ? { name: runJobName(name, ctx.runId) } : {}) },
    spec: {
      // RETRIES are the attempts after the first; the Job controller counts failed pods against backoffLimit.
      backoffLimit: batch.retries,
      // A pod evicted or preempted (node drain, scale-down) did not fail: retry it without spending one of the stage's retries.
      podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
      // The stage's pod overrides (bodywork-deploy.yaml) merged in (overrides.ts).
      template: applyPodOverrides(ctx.spec, stage.name, {
        metadata: podMeta(ctx, stage, name),
        // The command bounds the script; the pod's activeDeadlineSeconds is only a backstop per attempt (a set-up that
        // hangs), where the Job's would bound all attempts together (limits.ts).
        spec: podSpec(ctx, { restartPolicy: 'Never', ...(limit ? { activeDeadlineSeconds: limit.deadlineSeconds } : {}) }, container(ctx, stage)),
      }),
    },
  };
  return { type: 'batch', stage: stage.name, spec: stage, baseName: name, selector: stageSelector(name), objects: [job], job, ...(limit ? { scriptLimit: limit } : {}) };
}

function planServiceStage(ctx: Context, stage: StageSpec, name: string): PlannedServiceStage {
  const service = stage.service;
  if (service === undefined) throw new PlanError(`service stage '${stage.name}' has no service settings`);
  const port = service.port;
  // The Deployment selects on its `stage` label alone, as the format's Bodywork did (selectors are immutable); where that
  // is the bare stage name (INI, "1.0"), the Service and the engine's lookups also match the project (labels.ts).
  const label = stageLabelValue(ctx.spec, stage.name, name, 'Deployment');
  const matchLabels = stageSelector(label);
  const selector = label === name ? matchLabels : { ...matchLabels, [LABEL_PART_OF]: ctx.project };
  // INI and "1.0" services: no probe counts the startup limit (the deploy's wait does); "1.1": a startup probe (limits.ts).
  const check = startupCheck(ctx.spec);
  const startup = { check, seconds: service.maxStartupTimeSeconds, graceSeconds: startupGraceSeconds(check), setting: limitSetting(ctx.spec, 'startup') };
  const main: V1Container = {
    ...container(ctx, stage),
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    // Bodywork defined no readiness probe, so a pod counted as ready as soon as it ran; now only when it accepts connections.
    ...serviceProbes(check, port, service.maxStartupTimeSeconds),
  };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(ctx, stage, name, label),
    spec: {
      replicas: service.replicas,
      selector: { matchLabels },
      // maxUnavailable 0: old pods go only once new ones are available, so a failed rollout leaves the old version serving.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: MAX_SURGE, maxUnavailable: 0 } },
      progressDeadlineSeconds: progressDeadlineSeconds(check, service.maxStartupTimeSeconds),
      // Enough history for a rollback to the previous version (Bodywork kept 0).
      revisionHistoryLimit: 3,
      template: applyPodOverrides(ctx.spec, stage.name, {
        metadata: podMeta(ctx, stage, label),
        spec: podSpec(ctx, { restartPolicy: 'Always' }, main),
      }),
    },
  };
  const svc: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(ctx, stage, name),
    // One unnamed port, as Bodywork's: the API server's service proxy (the tutorial's `services/<svc>/proxy/...`, no
    // port in the path) only finds an endpoint port whose name is empty.
    spec: { type: 'ClusterIP', selector, ports: [{ protocol: 'TCP', port, targetPort: port }] },
  };
  const url = `http://${name}.${ctx.namespace}.svc.cluster.local:${port}`;
  const planned: PlannedServiceStage = {
    type: 'service',
    stage: stage.name,
    spec: stage,
    baseName: name,
    selector,
    objects: [deployment, svc],
    deployment,
    service: svc,
    url,
    startup,
  };
  if (service.ingress) {
    const ingressPath = `/${ctx.namespace}/${name}`;
    const meta = objectMeta(ctx, stage, name);
    const ingress: V1Ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        ...meta,
        // Bodywork's route: /<namespace>/<service>/<rest> reaches the pod as /<rest>. The rewrite is ingress-nginx's,
        // the one controller Bodywork supported; ImplementationSpecific is the path type that allows its regex.
        annotations: {
          ...meta.annotations,
          'nginx.ingress.kubernetes.io/use-regex': 'true',
          'nginx.ingress.kubernetes.io/rewrite-target': '/$2',
        },
      },
      spec: {
        ...(ctx.ingressClass !== undefined ? { ingressClassName: ctx.ingressClass } : {}),
        rules: [
          {
            http: {
              paths: [{ path: `${ingressPath}(/|$)(.*)`, pathType: 'ImplementationSpecific', backend: { service: { name, port: { number: port } } } }],
            },
          },
        ],
      },
    };
    planned.ingress = ingress;
    planned.ingressPath = ingressPath;
    planned.objects.push(ingress);
  }
  return planned;
}

/** Every object of the plan in apply order: set-up first, then each step's stages; the run_on_failure stage is left out. */
export function planObjects(plan: DeployPlan): PlannedObject[] {
  return [...plan.setup, ...plan.steps.flatMap((step) => step.stages.flatMap((stage) => stage.objects))];
}
