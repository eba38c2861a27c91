/**
 * `planProject`: a pure function from a loaded project to every Kubernetes object its deployment needs.
 * Bodywork's objects (bodywork-behaviour.md §2.1-2.4) are the baseline; the deliberate differences are
 * noted where they are made (names valid and bounded, each attempt's script bounded, readiness probes, a rollout
 * that never drops below the desired ready replicas, the deployed code copied into a writable working copy instead
 * of cloned). Time limits and probes per format are limits.ts's; the container command is command.ts's; each
 * stage's objects are stage-objects.ts's.
 */
import type { V1Namespace, V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import { isDns1123Label, isDns1123Subdomain } from '../kube/names.js';
import type { ProjectSpec, StageSpec } from '../config/spec.js';
import { CODE_MOUNT_PATH } from './command.js';
import { checkGitSource, gitCode } from './git-source.js';
import { ANNOTATION_PREVIEW_REPOSITORY, LABEL_PREVIEW_PR, projectLabels } from './labels.js';
import { checkPullSecretNames } from './pull-secrets.js';
import { stageObjectName, toDnsLabel } from './names.js';
import { planOverrides } from './overrides.js';
import { PlanError } from './errors.js';
import { planStage, STAGE_SERVICE_ACCOUNT, type PlanContext } from './stage-objects.js';
import type { DeployPlan, PlanOptions, PlannedBatchStage, PlannedObject, PlannedStep } from './types.js';

export { PlanError } from './errors.js';
export { CONTAINER_NAME, cpuQuantity, MAX_SURGE, memoryQuantity, STAGE_SERVICE_ACCOUNT } from './stage-objects.js';

/** Length of the commit hash in `GIT_COMMIT_HASH` and the `git-commit-hash` label (`git rev-parse --short`). */
export const SHORT_SHA_LENGTH = 7;

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
  const ctx: PlanContext = {
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

function planSetup(ctx: PlanContext): PlannedObject[] {
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

/** Every object of the plan in apply order: set-up first, then each step's stages; the run_on_failure stage is left out. */
export function planObjects(plan: DeployPlan): PlannedObject[] {
  return [...plan.setup, ...plan.steps.flatMap((step) => step.stages.flatMap((stage) => stage.objects))];
}
