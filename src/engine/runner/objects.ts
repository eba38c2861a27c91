/**
 * The in-cluster runner's objects: a ServiceAccount with the deploy's RBAC (the README's rules, as a Role in the
 * namespace), and the Job (or CronJob) whose pod runs the bundled CLI on a stock Node image, as
 * `bodywork-deploy deploy <project> --in-cluster`. The pod mounts its own token volume (not the automatic one, whose
 * path a node may rewrite: the path is passed in BODYWORK_SERVICEACCOUNT_DIR) and runs as the image's `node` user,
 * within Pod Security "restricted".
 */
import { posix } from 'node:path';
import type { V1Container, V1CronJob, V1EnvVar, V1Job, V1PodTemplateSpec, V1PolicyRule, V1Role, V1RoleBinding, V1SecurityContext, V1ServiceAccount, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { GIT_CHECKOUT_PATH, LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_PART_OF, MANAGED_BY, RUNNER_COMPONENT, gitCode, toDnsLabel, type CodeBundle, type CodeSource } from '../plan/index.js';
import { BOOTSTRAP_FILE } from './cli-bundle.js';

/**
 * Where the runner's pod gets the project: the code bundle's ConfigMaps, or (the git code source) a clone of the
 * commit, as the stage pods then get theirs. `repoSubdir` is checkGitSource's normalized one.
 */
export type RunnerCode = { bundle: CodeBundle } | { git: Extract<CodeSource, { type: 'git' }>; repoSubdir?: string };

/** The runner's ServiceAccount, Role and RoleBinding. */
export const RUNNER_ACCOUNT = 'bodywork-runner';
/** The default image: a stock Node, the version the CLI is built for. */
export const DEFAULT_RUNNER_IMAGE = 'node:24-slim';
/** Label on the runner's progress ConfigMaps (progress.ts). */
export const LABEL_RUNNER_PROGRESS = 'bodywork.dev/runner-progress';
export const ANNOTATION_RUN_ID = 'bodywork.dev/run-id';
/** How long the engine has after SIGTERM (a cancel) to delete its stage Jobs, undo rollouts and release the lock. */
export const RUNNER_GRACE_SECONDS = 120;

const MOUNT = '/bodywork';
const CLI_DIR = `${MOUNT}/cli`;
const PROJECT_DIR = `${MOUNT}/project`;
const WORK_DIR = `${MOUNT}/work`;
const TOKEN_DIR = `${MOUNT}/serviceaccount`;
/** The `node` user of the official Node images. */
const NODE_USER = 1000;

/**
 * The README's "Minimal RBAC" rules that a Role can grant in one namespace (IngressClasses are cluster-wide: without
 * them the engine falls back to no class, as documented). `namespaces` get/patch apply to the Role's own namespace.
 */
export const RUNNER_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'patch'] },
  { apiGroups: [''], resources: ['serviceaccounts', 'services', 'configmaps', 'secrets'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['list'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
];

/** Labels of every runner object of `project` (its config name made a label). */
export function runnerLabels(project: string): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_PART_OF]: toDnsLabel(project), [LABEL_COMPONENT]: RUNNER_COMPONENT };
}

export function runnerSelector(project: string): string {
  return Object.entries(runnerLabels(project))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The runner Job of one run. */
export function runnerJobName(runId: string): string {
  return `bodywork-runner-${toDnsLabel(runId, 40)}`;
}

/** The CronJob of a project's schedule (52 characters at most: its Jobs add 11). */
export function runnerCronJobName(project: string): string {
  return `bodywork-runner-${toDnsLabel(project, 30)}`;
}

export function runnerAccountObjects(namespace: string, project: string): [V1ServiceAccount, V1Role, V1RoleBinding] {
  const metadata = { name: RUNNER_ACCOUNT, namespace, labels: runnerLabels(project) };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules: RUNNER_RULES },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: RUNNER_ACCOUNT },
      subjects: [{ kind: 'ServiceAccount', name: RUNNER_ACCOUNT, namespace }],
    },
  ];
}

export interface RunnerPodOptions {
  project: string;
  image?: string;
  /** The CLI's projected volume (cli-bundle.ts). */
  cliVolume: V1Volume;
  /** Where the pod gets the project (start.ts RunnerCode): the code bundle's volume, or a clone of the commit. */
  code: RunnerCode;
  /** Arguments of `deploy` after the project directory (`-n ns --run-id ...`). */
  deployArgs: string[];
  /** Extra labels and annotations of the pod (the run id). */
  annotations?: Record<string, string>;
}

const RESTRICTED_CONTAINER: V1SecurityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

/**
 * The project in the runner's pod: a code bundle is mounted and copied into the work directory by the bootstrap; with
 * the git code source the stage pods' own `fetch-code` init container clones the commit, and the engine reads the
 * project where it lies in that checkout, then plans the stages to clone it too.
 */
function projectOf(code: RunnerCode): { dir: string; volume: V1Volume; mount: V1VolumeMount; initContainers: V1Container[]; env: V1EnvVar[] } {
  if ('bundle' in code) {
    return {
      dir: `${WORK_DIR}/project`,
      volume: { ...code.bundle.volume, name: 'bodywork-runner-project' },
      mount: { name: 'bodywork-runner-project', mountPath: PROJECT_DIR, readOnly: true },
      initContainers: [],
      env: [{ name: 'BODYWORK_RUNNER_PROJECT', value: PROJECT_DIR }],
    };
  }
  const git = gitCode(code.git, code.repoSubdir);
  return {
    dir: code.repoSubdir !== undefined ? posix.join(GIT_CHECKOUT_PATH, code.repoSubdir) : GIT_CHECKOUT_PATH,
    volume: git.volume,
    mount: { name: git.volume.name, mountPath: GIT_CHECKOUT_PATH, readOnly: true },
    initContainers: [{ ...git.initContainer, securityContext: RESTRICTED_CONTAINER }],
    env: [],
  };
}

/** The pod template of a runner: `node boot.mjs deploy <project> --in-cluster --progress-job <its Job> ...`. */
export function runnerPodTemplate(o: RunnerPodOptions): V1PodTemplateSpec {
  const project = projectOf(o.code);
  const env = [
    { name: 'BODYWORK_RUNNER_CLI', value: CLI_DIR },
    ...project.env,
    { name: 'BODYWORK_RUNNER_WORK', value: WORK_DIR },
    { name: 'BODYWORK_SERVICEACCOUNT_DIR', value: TOKEN_DIR },
    // The Job controller labels its pods with the Job's name: a CronJob's runs learn theirs from it.
    { name: 'BODYWORK_RUNNER_JOB', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } } },
    { name: 'HOME', value: WORK_DIR },
    { name: 'NO_COLOR', value: '1' },
  ];
  const tokenVolume: V1Volume = {
    name: 'bodywork-runner-token',
    projected: {
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
  return {
    metadata: { labels: runnerLabels(o.project), ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      serviceAccountName: RUNNER_ACCOUNT,
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: RUNNER_GRACE_SECONDS,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true, runAsUser: NODE_USER, runAsGroup: NODE_USER, seccompProfile: { type: 'RuntimeDefault' } },
      ...(project.initContainers.length > 0 ? { initContainers: project.initContainers } : {}),
      containers: [
        {
          name: 'runner',
          image: o.image ?? DEFAULT_RUNNER_IMAGE,
          command: ['node', `${CLI_DIR}/${BOOTSTRAP_FILE}`],
          args: ['deploy', project.dir, '--in-cluster', '--progress-job', '$(BODYWORK_RUNNER_JOB)', ...o.deployArgs],
          env,
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
          securityContext: RESTRICTED_CONTAINER,
          volumeMounts: [
            { name: o.cliVolume.name, mountPath: CLI_DIR, readOnly: true },
            project.mount,
            { name: tokenVolume.name, mountPath: TOKEN_DIR, readOnly: true },
            { name: 'bodywork-runner-work', mountPath: WORK_DIR },
          ],
        },
      ],
      volumes: [o.cliVolume, project.volume, tokenVolume, { name: 'bodywork-runner-work', emptyDir: {} }],
    },
  };
}

/**
 * The Job of one run: no retries (the engine retries stages itself; a second pod would deploy again), and a deadline
 * past the run's own timeout and lock wait, in case the engine cannot stop itself.
 */
export function runnerJob(namespace: string, name: string, template: V1PodTemplateSpec, deadlineSeconds: number): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace, labels: template.metadata!.labels!, ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}) },
    spec: { backoffLimit: 0, activeDeadlineSeconds: deadlineSeconds, template },
  };
}

/** The schedule: the same runner Job, one at a time (a run still going when the next is due makes that one wait). */
export function runnerCronJob(namespace: string, project: string, schedule: string, template: V1PodTemplateSpec, deadlineSeconds: number, timeZone?: string): V1CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: runnerCronJobName(project), namespace, labels: runnerLabels(project) },
    spec: {
      schedule,
      ...(timeZone !== undefined ? { timeZone } : {}),
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: { metadata: { labels: runnerLabels(project) }, spec: { backoffLimit: 0, activeDeadlineSeconds: deadlineSeconds, template } },
    },
  };
}
