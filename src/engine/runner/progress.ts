/**
 * The in-cluster runner's progress, where the API can read it: one ConfigMap per run, named as its Job, holding
 * `progress.json` (RunnerProgress). The runner rewrites it when it starts, as each step starts and ends, and with the
 * final result. Stage results go in without their log lines and pod events (stage output may print anything,
 * secrets included; `kubectl logs` has them), so nothing secret is ever in it.
 *
 * Not owned by the Job: a cancelled run's Job is deleted, and its record must say so afterwards. The runner keeps
 * the records (and finished Jobs) of the last HISTORY runs of its project.
 */
import type { V1ConfigMap, V1CronJob, V1Job } from '@kubernetes/client-node';
import type { DeployProgress, DeployResult, StageResult } from '../deploy/types.js';
import { KubeApiError, type KubeClient } from '../kube/index.js';
import type { Logger } from '../logger.js';
import { ANNOTATION_RUN_ID, LABEL_RUNNER_PROGRESS, runnerCronJobName, runnerLabels, runnerSelector } from './objects.js';
import { errorMessage } from '../errors.js';

export const PROGRESS_KEY = 'progress.json';
/** Runs of a project whose records and finished Jobs are kept. */
export const HISTORY = 5;

export type RunnerPhase = 'starting' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RunnerProgress {
  project: string;
  namespace: string;
  job: string;
  runId: string;
  phase: RunnerPhase;
  /** The step under way or last run (1-based; 0 before the first). */
  step: number;
  steps: number;
  running: string[];
  stages: StageResult[];
  startedAt: string;
  updatedAt: string;
  durationMs?: number;
  reason?: string;
}

const FINAL: RunnerPhase[] = ['succeeded', 'failed', 'cancelled'];
export const isFinal = (phase: RunnerPhase): boolean => FINAL.includes(phase);

/** A stage result as recorded: no log lines, no pod events. */
function recorded(s: StageResult): StageResult {
  const { logTail: _logTail, events: _events, ...rest } = s;
  return rest;
}

export function progressConfigMap(p: RunnerProgress): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: p.job, namespace: p.namespace, labels: { ...runnerLabels(p.project), [LABEL_RUNNER_PROGRESS]: 'true' } },
    data: { [PROGRESS_KEY]: `${JSON.stringify({ ...p, stages: p.stages.map(recorded) }, null, 2)}\n` },
  };
}

export function parseProgress(cm: V1ConfigMap | undefined): RunnerProgress | undefined {
  const text = cm?.data?.[PROGRESS_KEY];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as RunnerProgress;
  } catch {
    return undefined;
  }
}

/**
 * Writes one run's record, one write at a time in order (a slow API never reorders steps). Failures are logged as
 * warnings: a record that cannot be written must not fail the deploy.
 */
export class ProgressRecorder {
  private state: RunnerProgress;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
    start: Pick<RunnerProgress, 'project' | 'namespace' | 'job' | 'runId'>,
  ) {
    const now = new Date().toISOString();
    this.state = { ...start, phase: 'starting', step: 0, steps: 0, running: [], stages: [], startedAt: now, updatedAt: now };
  }

  private write(): Promise<void> {
    const snapshot = progressConfigMap({ ...this.state, updatedAt: new Date().toISOString() });
    this.chain = this.chain.then(async () => {
      try {
        await this.client.apply(snapshot as never, { fieldManager: 'bodywork-deploy-runner' });
      } catch (e) {
        this.logger.warn(`could not record the runner's progress in ConfigMap ${this.state.job}: ${errorMessage(e)}`);
      }
    });
    return this.chain;
  }

  started(): Promise<void> {
    return this.write();
  }

  step(p: DeployProgress): Promise<void> {
    this.state = { ...this.state, phase: 'running', step: p.step, steps: p.steps, running: p.running, stages: p.stages };
    return this.write();
  }

  finish(result: DeployResult, cancelled: boolean): Promise<void> {
    const phase: RunnerPhase = cancelled ? 'cancelled' : result.status === 'success' ? 'succeeded' : 'failed';
    this.state = { ...this.state, phase, running: [], stages: result.stages, durationMs: result.durationMs, ...(result.reason !== undefined ? { reason: result.reason } : {}) };
    return this.write();
  }

  /** The run ended before the engine ran (a bad project, no cluster access). */
  failed(reason: string): Promise<void> {
    this.state = { ...this.state, phase: 'failed', running: [], reason };
    return this.write();
  }
}

/** One run's state: its record, corrected by what its Job says when the record cannot (the pod never started, or was killed). */
export interface RunnerStatus extends RunnerProgress {
  /** `active`, `succeeded`, `failed`, `deleted` (cancelled, or removed). */
  jobState: 'active' | 'succeeded' | 'failed' | 'deleted';
  /** `kubectl logs -f job/<job> -n <namespace>`. */
  follow: string;
}

function jobState(job: V1Job | undefined): RunnerStatus['jobState'] {
  if (job === undefined || job.metadata?.deletionTimestamp) return 'deleted';
  const cond = (type: string) => job.status?.conditions?.some((c) => c.type === type && c.status === 'True');
  if (cond('Complete')) return 'succeeded';
  if (cond('Failed')) return 'failed';
  return 'active';
}

export function followCommand(namespace: string, job: string): string {
  return `kubectl logs -f job/${job} -n ${namespace}`;
}

/** Combines a record and its Job. */
export function runnerStatus(progress: RunnerProgress, job: V1Job | undefined): RunnerStatus {
  const state = jobState(job);
  const out: RunnerStatus = { ...progress, jobState: state, follow: followCommand(progress.namespace, progress.job) };
  if (!isFinal(progress.phase) && state === 'failed') {
    const cond = job?.status?.conditions?.find((c) => c.type === 'Failed');
    return { ...out, phase: 'failed', running: [], reason: `the runner's Job failed before the run ended: ${cond?.reason ?? 'Failed'}${cond?.message ? `: ${cond.message}` : ''}` };
  }
  if (!isFinal(progress.phase) && state === 'deleted') return { ...out, phase: 'cancelled', running: [], reason: progress.reason ?? "the runner's Job was deleted before the run ended" };
  return out;
}

/** The latest run of `project` in `namespace` (by record or Job, whichever is newer), or undefined when it never ran there. */
export async function readRunnerStatus(client: KubeClient, namespace: string, project: string, signal?: AbortSignal): Promise<RunnerStatus | undefined> {
  const [records, jobs] = await Promise.all([
    client.list<V1ConfigMap>('ConfigMap', namespace, { labelSelector: `${runnerSelector(project)},${LABEL_RUNNER_PROGRESS}=true`, ...(signal ? { signal } : {}) }),
    client.list<V1Job>('Job', namespace, { labelSelector: runnerSelector(project), ...(signal ? { signal } : {}) }),
  ]);
  const created = (o: { metadata?: { creationTimestamp?: Date | string } } | undefined) => new Date(o?.metadata?.creationTimestamp ?? 0).getTime();
  const recordOf = new Map(records.items.map((cm) => [cm.metadata!.name!, cm]));
  const jobOf = new Map(jobs.items.map((j) => [j.metadata!.name!, j]));
  // A run is its Job (when it still exists: it is older than its record) or else its record.
  const when = (name: string) => (jobOf.has(name) ? created(jobOf.get(name)) : created(recordOf.get(name)));
  const latest = [...new Set([...recordOf.keys(), ...jobOf.keys()])].sort((a, b) => when(b) - when(a))[0];
  if (latest === undefined) return undefined;
  const job = jobOf.get(latest);
  const progress = parseProgress(recordOf.get(latest)) ?? {
    // A Job whose pod has not written its record yet.
    project,
    namespace,
    job: latest,
    runId: job?.metadata?.annotations?.[ANNOTATION_RUN_ID] ?? '',
    phase: 'starting' as const,
    step: 0,
    steps: 0,
    running: [],
    stages: [],
    startedAt: new Date(created(job)).toISOString(),
    updatedAt: new Date().toISOString(),
  };
  return runnerStatus(progress, job);
}

/** The project's schedule, when it has one. */
export async function readSchedule(client: KubeClient, namespace: string, project: string): Promise<{ name: string; schedule: string; suspended: boolean; lastScheduleTime?: string } | undefined> {
  let cron: V1CronJob | undefined;
  try {
    cron = await client.find<V1CronJob>('CronJob', namespace, runnerCronJobName(project));
  } catch (e) {
    if (e instanceof KubeApiError && e.statusCode === 403) return undefined;
    throw e;
  }
  if (cron === undefined) return undefined;
  const last = cron.status?.lastScheduleTime;
  return {
    name: cron.metadata!.name!,
    schedule: cron.spec?.schedule ?? '',
    suspended: cron.spec?.suspend === true,
    ...(last !== undefined ? { lastScheduleTime: new Date(last).toISOString() } : {}),
  };
}

/** Deletes the records and finished Jobs of the project's runs beyond the newest HISTORY (never an active one). */
export async function pruneRunnerHistory(client: KubeClient, logger: Logger, namespace: string, project: string): Promise<void> {
  try {
    const records = (await client.list<V1ConfigMap>('ConfigMap', namespace, { labelSelector: `${runnerSelector(project)},${LABEL_RUNNER_PROGRESS}=true` })).items;
    const old = records
      .map((cm) => ({ cm, p: parseProgress(cm) }))
      .sort((a, b) => new Date(b.cm.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.cm.metadata?.creationTimestamp ?? 0).getTime())
      .slice(HISTORY)
      .filter(({ p }) => p === undefined || isFinal(p.phase));
    for (const { cm } of old) {
      const name = cm.metadata!.name!;
      await client.delete('Job', namespace, name, { propagationPolicy: 'Background' });
      await client.delete('ConfigMap', namespace, name);
    }
  } catch (e) {
    logger.warn(`could not delete old runner records in namespace=${namespace}: ${errorMessage(e)}`);
  }
}
