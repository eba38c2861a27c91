/**
 * Starting the in-cluster runner (`runner: cluster`), or scheduling it: the namespace, the runner's ServiceAccount and
 * Role, the given Secrets (under the deploy lock, as a deploy writes them), the CLI and project ConfigMaps, then the
 * Job or the CronJob. `waitForRunnerStart` returns once the run is observably under way: its record (progress.ts) says
 * a step has started, or the run has already ended, or its pod cannot start (named with the kubelet's reason).
 */
import type { V1ConfigMap, V1Job, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ProjectSpec } from '../config/spec.js';
import { applySecretValues, type SecretValues } from '../deploy/input-secrets.js';
import { acquireLock } from '../deploy/lock.js';
import { ensureNamespace } from '../deploy/namespace.js';
import { KubeApiError, waitFor, type KubeClient, type Manifest } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { LABEL_PART_OF, PlanError, checkGitSource, type DeployPlan, type PlanOptions } from '../plan/index.js';
import { packCliBundle } from './cli-bundle.js';
import { markCliBundleUsed, markedUsed, pruneCliBundles } from './cli-prune.js';
import { ANNOTATION_RUN_ID, runnerAccountObjects, runnerCronJob, runnerJob, runnerJobName, runnerLabels, runnerPodTemplate, type RunnerCode } from './objects.js';
import { followCommand, isFinal, parseProgress, type RunnerProgress } from './progress.js';
import type { DeploySettings } from '../settings.js';

export interface RunnerSetup {
  client: KubeClient;
  logger: Logger;
  spec: ProjectSpec;
  /** The plan (namespace, labels), made with the same code source as `code`. */
  plan: DeployPlan;
  code: RunnerCode;
  /** The built CLI (dist/cli: index.js and chunks/). */
  cliDir: string;
  /** The runner's image (default node:24-slim). */
  runnerImage?: string;
  /** The deploy's settings, passed on to the in-cluster `deploy` as its flags. */
  settings: DeploySettings;
  /** The commit deployed (labels, GIT_COMMIT_HASH): the runner's pod has no checkout to ask, or no git. */
  commitSha?: string;
  /** Secrets to write before the runner starts, under the namespace's deploy lock. */
  secrets?: SecretValues[];
  signal?: AbortSignal;
}

const seconds = (ms: number): string => `${Math.ceil(ms / 1000)}s`;

/**
 * The runner's code from the plan options of a deploy: the bundle, or the git source (its subdirectory normalized as
 * the plan has it). Throws PlanError for a git source the plan would refuse.
 */
export function runnerCode(o: Pick<PlanOptions, 'codeBundle' | 'codeSource' | 'repoSubdir'>): RunnerCode {
  if (o.codeSource?.type === 'git') {
    const checked = checkGitSource(o.codeSource, o.repoSubdir);
    if ('error' in checked) throw new PlanError(checked.error);
    return { git: o.codeSource, ...(checked.repoSubdir !== undefined ? { repoSubdir: checked.repoSubdir } : {}) };
  }
  if (o.codeBundle === undefined) throw new PlanError('the in-cluster runner needs the code bundle or the git code source');
  return { bundle: o.codeBundle };
}

/** The code source flags of the runner's `deploy`: it plans the stages to clone the commit too. */
function codeArgs(code: RunnerCode): string[] {
  if ('bundle' in code) return [];
  const { url, commit, tokenSecret } = code.git;
  return ['--code-source', 'git', '--git-url', url, '--commit', commit, ...(tokenSecret !== undefined ? ['--git-token-secret', tokenSecret] : []), ...(code.repoSubdir !== undefined ? ['--git-subdir', code.repoSubdir] : [])];
}

/** The `deploy` flags the runner passes on (after the project directory). */
export function runnerDeployArgs(namespace: string, s: DeploySettings, code: RunnerCode, run: { runId?: string; commitSha?: string } = {}): string[] {
  return [
    '--namespace', namespace,
    ...codeArgs(code),
    ...(run.commitSha !== undefined && 'bundle' in code ? ['--commit', run.commitSha] : []),
    ...(run.runId !== undefined ? ['--run-id', run.runId] : []),
    '--timeout', seconds(s.timeoutMs),
    '--lock-timeout', seconds(s.lockTimeoutMs),
    '--keep-jobs', String(s.keepJobs),
    ...(s.prune === false ? ['--no-prune'] : []),
    ...(s.image !== undefined ? ['--image', s.image] : []),
    ...(s.ingressClass !== undefined ? ['--ingress-class', s.ingressClass] : []),
    ...(s.stages !== undefined && s.stages.length > 0 ? ['--stages', s.stages.join(',')] : []),
    ...(s.imagePullSecrets ?? []).flatMap((n) => ['--image-pull-secret', n]),
  ];
}

/** The run's deadline for its Job: its timeout, its lock wait and ten minutes for the set-up and the cleanup. */
function deadlineSeconds(s: Pick<DeploySettings, 'timeoutMs' | 'lockTimeoutMs'>): number {
  return Math.ceil((s.timeoutMs + s.lockTimeoutMs) / 1000) + 600;
}

/** How long starting a run may take before its first step is under way: its lock wait, then five minutes for the image pull and the set-up. */
export function runnerStartWaitMs(s: Pick<DeploySettings, 'lockTimeoutMs'>): number {
  return s.lockTimeoutMs + 5 * 60_000;
}

/** Creates `obj`; resolves false when it existed. */
async function createIfMissing(client: KubeClient, obj: V1ConfigMap, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.create(obj as unknown as Manifest, signal ? { signal } : {});
    return true;
  } catch (e) {
    // Content-addressed and immutable: one that exists holds the same files.
    if (!(e instanceof KubeApiError && e.isAlreadyExists)) throw e;
    return false;
  }
}

/** Everything but the Job or CronJob; resolves the runner's pod template. */
async function prepare(o: RunnerSetup, runId: string | undefined): Promise<V1PodTemplateSpec> {
  const { client, logger, plan } = o;
  const namespace = plan.namespace;
  const signal = o.signal ?? new AbortController().signal;
  const cli = packCliBundle(o.cliDir, runnerLabels(o.spec.name));
  logger.debug(`runner CLI bundle: ${cli.rawBytes} bytes, ${cli.compressedBytes} compressed, in ${cli.configMaps.length} ConfigMaps`);
  await ensureNamespace({ client, logger, plan, namespace, signal });
  for (const obj of runnerAccountObjects(namespace, o.spec.name)) await client.apply(obj as unknown as Manifest, { signal });
  if (o.secrets !== undefined && o.secrets.length > 0) {
    const lock = await acquireLock({ client, logger, namespace, holder: `runner set-up ${runId ?? 'schedule'}`, project: plan.labels[LABEL_PART_OF], signal, timeoutMs: o.settings.lockTimeoutMs });
    try {
      await applySecretValues({ client, logger, namespace, signal, labels: plan.labels }, o.secrets);
    } finally {
      await lock.release();
    }
  }
  const inNamespace = (cm: V1ConfigMap): V1ConfigMap => ({ ...cm, metadata: { ...cm.metadata, namespace } });
  for (const cm of cli.configMaps.map(inNamespace)) if (!(await createIfMissing(client, markedUsed(cm), signal))) await markCliBundleUsed(client, cm, signal);
  for (const cm of 'bundle' in o.code ? o.code.bundle.configMaps : []) await createIfMissing(client, inNamespace(cm), signal);
  await pruneCliBundles(client, logger, namespace, cli.configMaps.map((cm) => cm.metadata!.name!), signal);
  return runnerPodTemplate({
    project: o.spec.name,
    ...(o.runnerImage !== undefined ? { image: o.runnerImage } : {}),
    cliVolume: cli.volume,
    code: o.code,
    deployArgs: runnerDeployArgs(namespace, o.settings, o.code, { runId, commitSha: o.commitSha }),
    ...(runId !== undefined ? { annotations: { [ANNOTATION_RUN_ID]: runId } } : {}),
  });
}

export interface StartedRunner {
  namespace: string;
  job: string;
  runId: string;
  follow: string;
}

/** Sets the runner up and creates its Job for run `runId`. */
export async function startRunner(o: RunnerSetup & { runId: string }): Promise<StartedRunner> {
  const template = await prepare(o, o.runId);
  const namespace = o.plan.namespace;
  const name = runnerJobName(o.runId);
  await o.client.create(runnerJob(namespace, name, template, deadlineSeconds(o.settings)) as unknown as Manifest, o.signal ? { signal: o.signal } : {});
  o.logger.info(`started the in-cluster runner: Job ${name} in namespace=${namespace} (follow it: ${followCommand(namespace, name)})`);
  return { namespace, job: name, runId: o.runId, follow: followCommand(namespace, name) };
}

/** Sets the runner up and creates or updates the project's CronJob. Resolves its name. */
export async function scheduleRunner(o: RunnerSetup & { schedule: string; timeZone?: string }): Promise<string> {
  const template = await prepare(o, undefined);
  const cron = runnerCronJob(o.plan.namespace, o.spec.name, o.schedule, template, deadlineSeconds(o.settings), o.timeZone);
  await o.client.apply(cron as unknown as Manifest, o.signal ? { signal: o.signal } : {});
  o.logger.info(`scheduled the in-cluster runner: CronJob ${cron.metadata!.name} in namespace=${o.plan.namespace}, '${o.schedule}'${o.timeZone ? ` (${o.timeZone})` : ''}`);
  return cron.metadata!.name!;
}

/** Why the runner's pod cannot run, from its status, or undefined. */
function podProblem(pod: V1Pod): string | undefined {
  for (const c of pod.status?.containerStatuses ?? []) {
    const w = c.state?.waiting;
    if (w?.reason && ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError'].includes(w.reason)) {
      return `pod ${pod.metadata?.name} cannot start: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
    }
  }
  return undefined;
}

export type RunnerStart = { started: true; progress: RunnerProgress } | { started: false; reason: string; logTail?: string[] };

/** The last lines the runner's pod wrote, for a runner that ended before it recorded anything. */
async function runnerLogTail(client: KubeClient, namespace: string, job: string): Promise<string[]> {
  try {
    const pods = await client.list<V1Pod>('Pod', namespace, { labelSelector: `batch.kubernetes.io/job-name=${job}` });
    const pod = pods.items[0]?.metadata?.name;
    if (pod === undefined) return [];
    return (await client.podLog(namespace, pod, { tailLines: 20 })).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

/**
 * Waits until run `job` is under way (its record shows a step started, or the end) or cannot be (its Job failed, its
 * pod cannot start). Rejects after `timeoutMs` (a WaitTimeoutError) or when `signal` aborts.
 */
export async function waitForRunnerStart(client: KubeClient, namespace: string, job: string, opts: { timeoutMs: number; signal?: AbortSignal; logger?: Logger }): Promise<RunnerStart> {
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const wait = { timeoutMs: opts.timeoutMs, signal: stop.signal };
  const base = { client, ...(opts.logger ? { logger: opts.logger } : {}) };
  try {
    const outcome = await Promise.race([
      waitFor<V1ConfigMap, RunnerStart>({ ...base, path: `/api/v1/namespaces/${namespace}/configmaps`, fieldSelector: `metadata.name=${job}` }, (all) => {
        const p = parseProgress(all.get(job));
        return p !== undefined && (p.step >= 1 || isFinal(p.phase)) ? { started: true, progress: p } : undefined;
      }, { ...wait, description: `the runner ${job} to start its first step` }),
      waitFor<V1Job, RunnerStart>({ ...base, path: `/apis/batch/v1/namespaces/${namespace}/jobs`, fieldSelector: `metadata.name=${job}` }, (all) => {
        const cond = all.get(job)?.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
        return cond ? { started: false, reason: `the runner's Job ${job} failed: ${cond.reason ?? 'Failed'}${cond.message ? `: ${cond.message}` : ''}` } : undefined;
      }, wait),
      waitFor<V1Pod, RunnerStart>({ ...base, path: `/api/v1/namespaces/${namespace}/pods`, labelSelector: `batch.kubernetes.io/job-name=${job}` }, (all) => {
        for (const pod of all.values()) {
          const problem = podProblem(pod);
          if (problem !== undefined) return { started: false, reason: problem };
        }
        return undefined;
      }, wait),
    ]);
    if (outcome.started) return outcome;
    const logTail = await runnerLogTail(client, namespace, job);
    return logTail.length > 0 ? { ...outcome, logTail } : outcome;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    stop.abort(new Error('done'));
  }
}
