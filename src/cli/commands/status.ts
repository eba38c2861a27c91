/**
 * `bodywork-deploy status [DIR]`: what of the project runs in the cluster: services with ready replicas and URLs,
 * and the last Job of each batch stage. As a table, or with `-o json` as one JSON document. Exit 0 when every stage
 * of the DAG is deployed and none has failed; 1 when one has failed or is not deployed (the namespace missing
 * included); 2 for bad usage or a bad project. The run_on_failure stage is listed but never counts: it runs only
 * after a failure.
 */
import type { Command } from 'commander';
import type { V1Deployment, V1Job } from '@kubernetes/client-node';
import { loadBatchStage, loadRunner, LABEL_STAGE, formatDuration, errorMessage, type DeployPlan, type KubeClient, type RunnerStatus } from '../../engine/index.js';
import { type ClusterFlags, outputOption, withClusterOptions, renderTable, projectOnCluster } from '../cluster.js';
import { CliExit, type CliIo, EXIT_FAILURE, oneLine, paint, printJson } from '../io.js';
import { statusStyle } from '../style.js';

interface StatusFlags extends ClusterFlags {
  namespace?: string;
  verbose?: boolean;
  output: 'text' | 'json';
}

/** One stage's state in the cluster (the `stages` items of `status -o json`). */
export interface StageStatus {
  stage: string;
  type: 'batch' | 'service';
  /** service: ready, not ready, not deployed; batch (its latest Job): succeeded, failed, running, not deployed. */
  status: 'ready' | 'not ready' | 'succeeded' | 'failed' | 'running' | 'not deployed';
  /** The run_on_failure stage (never counts towards the exit code). */
  onFailure?: true;
  /** Why a batch stage failed: the Job's Failed condition reason. */
  reason?: string;
  readyReplicas?: number;
  replicas?: number;
  /** Service stages that are deployed: the in-cluster URL. */
  url?: string;
  /** `Job/<name>` (the latest) or `Deployment/<name>`. */
  object?: string;
}

export interface ProjectStatus {
  project: string;
  namespace: string;
  /** The namespace exists. */
  namespaceExists: boolean;
  /** Every DAG stage is deployed and none failed: exit code 0. */
  ok: boolean;
  stages: StageStatus[];
  /** The latest in-cluster runner run (deploy --runner cluster, or a scheduled one), when there was one. */
  runner?: RunnerStatus;
  /** The project's in-cluster schedule (bodywork-deploy schedule), when it has one. */
  schedule?: { name: string; schedule: string; suspended: boolean; lastScheduleTime?: string };
}

async function readStatus(client: KubeClient, plan: DeployPlan): Promise<ProjectStatus> {
  // Loaded here, with the Kubernetes client: `status --help` and usage errors need neither.
  const { jobOutcome } = await loadBatchStage();
  const ns = plan.namespace;
  const all = [...plan.steps.flatMap((s) => s.stages), ...(plan.onFailure ? [plan.onFailure] : [])];
  const base = { project: plan.project, namespace: ns };
  if (!(await client.exists('Namespace', undefined, ns))) {
    const stages = all.map((s): StageStatus => ({ stage: s.stage, type: s.type, status: 'not deployed', ...(s === plan.onFailure ? { onFailure: true as const } : {}) }));
    return { ...base, namespaceExists: false, ok: false, stages };
  }
  const selector = Object.entries(plan.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const [deployments, jobs] = await Promise.all([client.list<V1Deployment>('Deployment', ns, { labelSelector: selector }), client.list<V1Job>('Job', ns, { labelSelector: selector })]);
  const stages = all.map((stage): StageStatus => {
    const onFailure = stage === plan.onFailure ? { onFailure: true as const } : {};
    if (stage.type === 'service') {
      const d = deployments.items.find((x) => x.metadata?.name === stage.baseName);
      if (!d) return { stage: stage.stage, type: 'service', status: 'not deployed', ...onFailure };
      const ready = d.status?.readyReplicas ?? 0;
      const replicas = d.spec?.replicas ?? 0;
      return { stage: stage.stage, type: 'service', status: ready >= replicas ? 'ready' : 'not ready', readyReplicas: ready, replicas, url: stage.url, object: `Deployment/${d.metadata?.name}`, ...onFailure };
    }
    const last = jobs.items
      .filter((j) => j.metadata?.labels?.[LABEL_STAGE] === stage.baseName)
      .sort((a, b) => new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime())[0];
    if (!last) return { stage: stage.stage, type: 'batch', status: 'not deployed', ...onFailure };
    const outcome = jobOutcome(last);
    const object = `Job/${last.metadata?.name}`;
    if (!outcome) return { stage: stage.stage, type: 'batch', status: (last.status?.succeeded ?? 0) > 0 ? 'succeeded' : 'running', object, ...onFailure };
    if (outcome.complete) return { stage: stage.stage, type: 'batch', status: 'succeeded', object, ...onFailure };
    return { stage: stage.stage, type: 'batch', status: 'failed', reason: outcome.condition.reason ?? 'Failed', object, ...onFailure };
  });
  const ok = stages.every((s) => s.onFailure || (s.status !== 'failed' && s.status !== 'not deployed'));
  const { readRunnerStatus, readSchedule } = await loadRunner();
  const [runner, schedule] = await Promise.all([readRunnerStatus(client, ns, plan.project), readSchedule(client, ns, plan.project)]);
  return { ...base, namespaceExists: true, ok, stages, ...(runner !== undefined ? { runner } : {}), ...(schedule !== undefined ? { schedule } : {}) };
}

/** The runner's run in one line: `Job <job> (run <id>): running step 1/2 (a, b)`, `... succeeded in 12s`, `... failed: why`. */
export function runnerLine(r: RunnerStatus): string {
  const what =
    r.phase === 'running' || r.phase === 'starting'
      ? r.step >= 1
        ? `running step ${r.step}/${r.steps}${r.running.length > 0 ? ` (${r.running.join(', ')})` : ''}`
        : r.phase
      : `${r.phase}${r.durationMs !== undefined ? ` in ${formatDuration(r.durationMs)}` : ''}${r.reason ? `: ${r.reason}` : ''}`;
  return `in-cluster runner: Job ${r.job}${r.runId ? ` (run ${r.runId})` : ''}: ${what}`;
}

export function registerStatus(program: Command, io: CliIo): void {
  const command = program
    .command('status')
    .description("show the project's services (ready replicas, URLs) and the last run of each batch stage (exit 1 when a stage has failed or is not deployed)")
    .argument('[dir]', 'project directory', '.');
  withClusterOptions(command)
    .addOption(outputOption())
    .action(async (dir: string, flags: StatusFlags) => {
      const { plan, client } = await projectOnCluster(dir, flags, io);
      let status: ProjectStatus;
      try {
        status = await readStatus(client, plan);
      } catch (error) {
        throw new CliExit(EXIT_FAILURE, `error: ${errorMessage(error)}`);
      }
      if (flags.output === 'json') printJson(io, status);
      else if (status.namespaceExists) {
        if (status.runner !== undefined) {
          io.stdout(`${oneLine(runnerLine(status.runner))}\n`);
          for (const s of status.runner.stages.filter((x) => x.status !== 'skipped' || x.reason !== 'not run')) io.stdout(`${oneLine(`  ${s.stage}: ${s.status}${s.reason ? ` (${s.reason})` : ''}`)}\n`);
          if (status.runner.phase === 'running' || status.runner.phase === 'starting') io.stdout(`${oneLine(`  follow it: ${status.runner.follow}`)}\n`);
        }
        if (status.schedule !== undefined) io.stdout(`${oneLine(`schedule: CronJob ${status.schedule.name} '${status.schedule.schedule}'${status.schedule.suspended ? ' (suspended)' : ''}${status.schedule.lastScheduleTime ? `, last run ${status.schedule.lastScheduleTime}` : ''}`)}\n`);
        const p = paint(io, 'stdout');
        const rows = [['STAGE', 'TYPE', 'STATUS', 'READY', 'URL']];
        for (const s of status.stages) {
          const ready = s.type === 'service' && s.replicas !== undefined ? `${s.readyReplicas ?? 0}/${s.replicas}` : s.type === 'service' ? '-' : '';
          rows.push([s.onFailure ? `${s.stage} (on failure)` : s.stage, s.type, s.reason ? `${s.status} (${s.reason})` : s.status, ready, s.url ?? s.object ?? '']);
        }
        io.stdout(
          renderTable(rows, (cell, row, column) => {
            const style = row > 0 && column === 2 ? statusStyle(cell) : undefined;
            return style ? p(style, cell) : cell;
          }),
        );
      }
      if (!status.namespaceExists) throw new CliExit(EXIT_FAILURE, oneLine(`namespace=${plan.namespace} does not exist: ${plan.project} is not deployed`));
      if (!status.ok) {
        const bad = status.stages.filter((s) => !s.onFailure && (s.status === 'failed' || s.status === 'not deployed')).map((s) => `${s.stage} ${s.status}`);
        throw new CliExit(EXIT_FAILURE, oneLine(`not every stage is deployed and healthy: ${bad.join(', ')}`));
      }
    });
}
