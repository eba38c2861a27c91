/**
 * The objects of each stage (plan.ts plans the project around them): a batch stage's Job; a service stage's
 * Deployment, Service and, with an ingress, Ingress; with the stage container and pod spec they share.
 */
import type { V1Container, V1Deployment, V1EnvVar, V1Ingress, V1Job, V1PodSpec, V1ResourceRequirements, V1Service, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ProjectSpec, StageSpec } from '../config/spec.js';
import { CODE_MOUNT_PATH, notebookEnv, PROJECT_MOUNT_PATH, stageCommand, WORKING_COPY_VOLUME_NAME } from './command.js';
import { PlanError } from './errors.js';
import { ANNOTATION_STAGE, LABEL_PART_OF, runAnnotations, stageLabels, stageLabelValue, stageSelector } from './labels.js';
import { limitSetting, progressDeadlineSeconds, scriptLimit, serviceProbes, startupCheck, startupGraceSeconds } from './limits.js';
import { runJobName, stageObjectName } from './names.js';
import { applyPodOverrides } from './overrides.js';
import { pullSecretsField } from './pull-secrets.js';
import type { CodeBundle, PlannedBatchStage, PlannedServiceStage, PlannedStage } from './types.js';

/** ServiceAccount, Role and RoleBinding every stage pod runs as (Bodywork 3's name). */
export const STAGE_SERVICE_ACCOUNT = 'bodywork-stage';
/** Name of the stage container (Bodywork's). */
export const CONTAINER_NAME = 'bodywork';
/** A new service pod may be started this many above the desired replicas during a rollout (Bodywork 3.0.12's maxSurge). */
export const MAX_SURGE = 2;
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

/** What every stage's objects are planned from: the project and the plan's options, resolved (plan.ts). */
export interface PlanContext {
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

/** The objects of one stage: a batch stage's Job, or a service stage's Deployment, Service and Ingress. */
export function planStage(ctx: PlanContext, stage: StageSpec): PlannedStage {
  const name = stageObjectName(ctx.spec, stage.name);
  if (stage.type === 'batch') return planBatchStage(ctx, stage, name);
  return planServiceStage(ctx, stage, name);
}

/** Metadata of a stage object named `name`; its `stage` label is `label` (default: the name). */
function objectMeta(ctx: PlanContext, stage: StageSpec, name: string, label = name) {
  return {
    name,
    namespace: ctx.namespace,
    labels: stageLabels(ctx.project, label, stage.type, ctx.shortSha),
    annotations: { [ANNOTATION_STAGE]: stage.name, ...runAnnotations(ctx.commitSha, ctx.runId) },
  };
}

/** Pod-template metadata: the stage's labels, and the run annotations (a new run id rolls a Deployment's pods). */
function podMeta(ctx: PlanContext, stage: StageSpec, label: string) {
  const annotations = runAnnotations(ctx.commitSha, ctx.runId);
  return {
    labels: stageLabels(ctx.project, label, stage.type, ctx.shortSha),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

function container(ctx: PlanContext, stage: StageSpec): V1Container {
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

function podSpec(ctx: PlanContext, extra: Partial<V1PodSpec>, main: V1Container): V1PodSpec {
  return {
    ...extra,
    serviceAccountName: STAGE_SERVICE_ACCOUNT,
    ...pullSecretsField(ctx.imagePullSecrets),
    ...(ctx.code !== undefined && ctx.code.initContainers.length > 0 ? { initContainers: ctx.code.initContainers } : {}),
    containers: [main],
    ...(ctx.code !== undefined ? { volumes: [ctx.code.volume, { name: WORKING_COPY_VOLUME_NAME, emptyDir: {} }] } : {}),
  };
}

function planBatchStage(ctx: PlanContext, stage: StageSpec, name: string): PlannedBatchStage {
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

function planServiceStage(ctx: PlanContext, stage: StageSpec, name: string): PlannedServiceStage {
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
    const { ingress, ingressPath } = serviceIngress(ctx, stage, name, port);
    planned.ingress = ingress;
    planned.ingressPath = ingressPath;
    planned.objects.push(ingress);
  }
  return planned;
}

/** A service stage's Ingress, at Bodywork's route `/<namespace>/<service>`. */
function serviceIngress(ctx: PlanContext, stage: StageSpec, name: string, port: number): { ingress: V1Ingress; ingressPath: string } {
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
  return { ingress, ingressPath };
}
