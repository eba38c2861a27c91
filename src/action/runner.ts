/**
 * The action's side of the in-cluster runner (engine/runner): `runner: cluster` starts it and ends the step once the
 * first DAG step is under way, with outputs saying where to follow it; `command: status` reports the latest run (the
 * step fails when it failed or was cancelled); `command: cancel` stops it. On a pull request preview each of them
 * writes the preview's sticky PR comment (the one a preview deploy keeps): the run under way and how to follow it,
 * then, from `status` or `cancel` in a later workflow run, its stage results and how it ended.
 */
import * as core from '@actions/core';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadRunner, type ProjectSpec, type SecretValues, type DeployResult, type KubeClient, type Logger, type DeployPlan, type DeploySettings, type PlanOptions, type RunnerPhase, type RunnerProgress, type RunnerStatus } from '../engine/index.js';
import { commentByline, failureLine, stageTable, stagesOutput } from './deploy-summary.js';
import { code, escapeHtml, table } from './markdown.js';
import * as out from './output.js';
import type { RunContext } from './run-context.js';

/** Posts or updates the preview's sticky PR comment (GitHubPreview.upsertComment), on a preview that comments. */
export type PreviewComment = (body: string) => Promise<void>;

/** The built CLI the runner ships: BODYWORK_CLI_BUNDLE, else the one beside this bundle (dist/cli). */
function cliBundleDir(): string {
  const dir = process.env.BODYWORK_CLI_BUNDLE || join(dirname(process.argv[1] ?? '.'), 'cli');
  if (!existsSync(join(dir, 'index.js'))) throw new Error(`runner: cluster ships the built CLI, which is not at ${dir} (set BODYWORK_CLI_BUNDLE to a build's cli/ directory)`);
  return dir;
}

export interface InClusterDeploy {
  client: KubeClient;
  logger: Logger;
  spec: ProjectSpec;
  plan: DeployPlan;
  /** The code options the plan was made with: the runner's pod gets the project the same way. */
  code: Pick<PlanOptions, 'codeBundle' | 'codeSource' | 'repoSubdir'>;
  runId: string;
  secrets: SecretValues[];
  runnerImage?: string;
  settings: DeploySettings;
  /** The commit deployed (the runner's pod has no checkout to ask). */
  commitSha?: string;
  context: RunContext;
  comment?: PreviewComment;
}

function followLines(namespace: string, job: string): string[][] {
  return [
    ['Namespace', code(namespace)],
    ['Runner Job', code(job)],
    ['Follow', code(`kubectl logs -f job/${job} -n ${namespace}`)],
    ['Progress', `${code('command: status')} (or ${code(`bodywork-deploy status -n ${namespace}`)})`],
    ['Cancel', `${code('command: cancel')} (or ${code(`bodywork-deploy cancel -n ${namespace}`)})`],
  ];
}

/** `runner: cluster`: starts the runner, waits for its first step, sets the outputs. */
export async function deployInCluster(o: InClusterDeploy): Promise<void> {
  const { runnerCode, runnerStartWaitMs, startRunner, waitForRunnerStart } = await loadRunner();
  const started = await startRunner({ ...o, code: runnerCode(o.code), cliDir: cliBundleDir(), ...(o.secrets.length > 0 ? { secrets: o.secrets } : {}), ...(o.runnerImage !== undefined ? { runnerImage: o.runnerImage } : {}) });
  core.setOutput('runner-job', started.job);
  core.setOutput('follow', started.follow);
  const start = await waitForRunnerStart(o.client, started.namespace, started.job, { timeoutMs: runnerStartWaitMs(o.settings), logger: o.logger });
  if (!start.started) {
    for (const line of start.logTail ?? []) out.info(line);
    const now = new Date().toISOString();
    const failed: RunnerProgress = { project: o.plan.project, namespace: started.namespace, job: started.job, runId: started.runId, phase: 'failed', step: 0, steps: 0, running: [], stages: [], startedAt: now, updatedAt: now, reason: `the in-cluster runner did not start: ${start.reason}` };
    if (o.comment) await o.comment(renderRunnerComment(failed, o.context));
    core.setOutput('status', 'failure');
    out.fail(`bodywork-deploy: the in-cluster runner did not start: ${start.reason}`);
    await out.writeSummary(`## ❌ Bodywork in-cluster runner did not start\n\n${escapeHtml(start.reason)}\n\n${table(undefined, followLines(started.namespace, started.job))}`);
    return;
  }
  const p = start.progress;
  if (o.comment) await o.comment(renderRunnerComment(p, o.context));
  core.setOutput('status', 'running');
  out.info(`the in-cluster runner is deploying ${o.plan.project}: step ${p.step}/${p.steps} under way (${p.running.join(', ')}); follow it with ${started.follow}`);
  await out.writeSummary(`## ⏳ Bodywork deploy running in the cluster: ${escapeHtml(o.plan.project)}\n\nStep ${p.step}/${p.steps} was under way (${escapeHtml(p.running.join(', '))}) when this step ended.\n\n${table(undefined, followLines(started.namespace, started.job))}`);
}

const RESULT: Record<string, string> = { succeeded: 'success', failed: 'failure', cancelled: 'failure' };

const COMMENT_HEAD: Record<RunnerPhase, string> = { starting: '⏳', running: '⏳', succeeded: '✅', failed: '❌', cancelled: '⛔' };

/** A run's record as the DeployResult its stage table and failure line are made from. */
function asResult(p: RunnerProgress): DeployResult {
  return { project: p.project, namespace: p.namespace, status: p.phase === 'succeeded' ? 'success' : 'failure', stages: p.stages, startedAt: p.startedAt, durationMs: p.durationMs ?? 0, ...(p.reason !== undefined ? { reason: p.reason } : {}) };
}

/** The preview's PR comment for an in-cluster run: under way (and how to follow it), or ended, with its stages. */
export function renderRunnerComment(p: RunnerProgress, context: RunContext): string {
  const ended = p.phase === 'succeeded' || p.phase === 'failed' || p.phase === 'cancelled';
  const state = p.phase === 'succeeded' ? 'deployed' : ended ? p.phase : 'running in the cluster';
  const where = ended ? `ran in the cluster, in the in-cluster runner's Job ${code(p.job)}` : `runs in the cluster, in the in-cluster runner's Job ${code(p.job)}, which outlives the workflow run`;
  const step = p.step >= 1 && !ended ? `: step ${p.step}/${p.steps} under way${p.running.length > 0 ? ` (${escapeHtml(p.running.join(', '))})` : ''}` : '';
  const parts = [`### ${COMMENT_HEAD[p.phase]} Bodywork preview: ${code(p.namespace)} ${state}`, '', `${commentByline(p.project, context)}. The DAG ${where}${step}.`, ''];
  if (p.phase === 'failed' || p.phase === 'cancelled') parts.push(`**${p.phase === 'failed' ? 'Failure' : 'Cancelled'}:** ${escapeHtml(p.reason ?? failureLine(asResult(p)))}`, '');
  if (ended && p.stages.length > 0) parts.push(stageTable(asResult(p)));
  if (!ended) parts.push(`${code('command: status')} in a later workflow run of this pull request updates this comment with the result.`, '');
  parts.push(table(undefined, followLines(p.namespace, p.job)));
  return parts.join('\n');
}

function statusSummary(s: RunnerStatus): string {
  const rows = s.stages.map((x) => [escapeHtml(x.stage), escapeHtml(x.type), escapeHtml(x.status), String(x.attempts), escapeHtml(x.reason ?? '')]);
  const head = `## Bodywork in-cluster runner: ${escapeHtml(s.project)}, ${escapeHtml(s.phase)}${s.phase === 'running' ? `, step ${s.step}/${s.steps}` : ''}\n\n`;
  return `${head}${s.reason ? `${escapeHtml(s.reason)}\n\n` : ''}${table(undefined, followLines(s.namespace, s.job))}\n${rows.length > 0 ? table(['Stage', 'Type', 'Result', 'Attempts', 'Reason'], rows) : ''}`;
}

/** `command: status` and `command: cancel`; `comment` updates a preview's PR comment with the run. */
export async function runnerCommand(command: 'status' | 'cancel', client: KubeClient, logger: Logger, namespace: string, project: string, preview?: { context: RunContext; comment?: PreviewComment }): Promise<void> {
  const runner = await loadRunner();
  let status: RunnerStatus | undefined;
  if (command === 'cancel') {
    const result = await runner.cancelRunner({ client, logger, namespace, project });
    out.info(result.cancelled.length > 0 ? `cancelled the in-cluster runner ${result.cancelled.join(', ')} in namespace ${namespace}` : `no in-cluster runner of ${project} is running in namespace ${namespace}`);
    if (result.lockHolder !== undefined) out.warning(`the deploy lock is still held by ${result.lockHolder}; it expires by itself within a minute`);
    status = result.status;
    core.setOutput('status', 'success');
  } else {
    status = await runner.readRunnerStatus(client, namespace, project);
    if (status === undefined) {
      core.setOutput('status', 'failure');
      out.fail(`bodywork-deploy: ${project} has no in-cluster runner run in namespace ${namespace}`);
      return;
    }
    core.setOutput('status', RESULT[status.phase] ?? 'running');
  }
  if (status === undefined) return;
  core.setOutput('runner-job', status.job);
  core.setOutput('runner-phase', status.phase);
  core.setOutput('follow', status.follow);
  core.setOutput('stages', JSON.stringify(stagesOutput({ project, namespace, status: status.phase === 'succeeded' ? 'success' : 'failure', stages: status.stages, startedAt: status.startedAt, durationMs: status.durationMs ?? 0 })));
  out.info(`in-cluster runner Job ${status.job} (run ${status.runId}): ${status.phase}${status.phase === 'running' ? ` step ${status.step}/${status.steps}` : ''}${status.reason ? `: ${status.reason}` : ''}`);
  await out.writeSummary(statusSummary(status));
  if (preview?.comment) await preview.comment(renderRunnerComment(status, preview.context));
  if (command === 'status' && RESULT[status.phase] === 'failure') out.fail(`bodywork-deploy: the in-cluster run ${status.job} ${status.phase}${status.reason ? `: ${status.reason}` : ''}`);
}
