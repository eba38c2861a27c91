/**
 * `command: sweep-previews`, for a scheduled workflow: a PR preview is torn down when its pull request closes, but
 * that run can be skipped, cancelled or fail (or the workflow was added after the PR was opened), and the namespace
 * then stays forever. The sweep lists this repository's preview namespaces (the engine's findPreviewNamespaces, by
 * the labels a preview deploy sets), asks GitHub for each pull request, and tears down, with the engine's teardown
 * under the namespace's deploy lock, those whose pull request is closed, merged or gone (404); open ones are kept,
 * and so are those GitHub did not answer for (a sweep must never guess). No project is loaded: the namespaces'
 * labels say whose they are.
 */
import * as core from '@actions/core';
import { findPreviewNamespaces, loadTeardown, errorMessage, type KubeClient, type Logger } from '../engine/index.js';
import { teardownMessage } from './deploy-summary.js';
import { ENVIRONMENT_OUTCOME_TEXT, GitHubPreview, GitHubPulls, type EnvironmentOutcome, type PullRequestState } from './github.js';
import type { ActionInputs } from './inputs.js';
import { code, escapeHtml, table } from './markdown.js';
import * as out from './output.js';
import type { RunContext } from './run-context.js';

export interface SweepRow {
  namespace: string;
  pr: number;
  project: string;
  pull: PullRequestState;
  action: 'kept' | 'torn down' | 'would tear down' | 'failed';
  /** The teardown's outcome or error, or why the namespace was kept. */
  detail: string;
  environment?: EnvironmentOutcome;
}

export interface SweepOptions {
  client: KubeClient;
  logger: Logger;
  inputs: ActionInputs;
  context: RunContext;
}

/** Sweeps, writes the outputs, the log table and the job summary; fails the step when a teardown failed. */
export async function sweepPreviews(opts: SweepOptions): Promise<void> {
  const { client, logger, inputs, context } = opts;
  const { repository } = context;
  const token = inputs.githubToken;
  if (repository === undefined) throw new Error('command: sweep-previews needs GITHUB_REPOSITORY (set on every GitHub Actions runner)');
  if (token === undefined) throw new Error('command: sweep-previews needs github-token, to ask GitHub whether each preview\'s pull request is still open');
  const pulls = new GitHubPulls(token, repository);
  await pulls.checkAccess();

  const previews = await findPreviewNamespaces(client, repository);
  out.info(`found ${previews.length} preview namespace${previews.length === 1 ? '' : 's'} of ${repository}`);
  const rows: SweepRow[] = [];
  for (const p of previews) {
    const pull = await pulls.state(p.pr);
    const row: SweepRow = { namespace: p.namespace, pr: p.pr, project: p.project, pull, action: 'kept', detail: '' };
    rows.push(row);
    if (pull.state === 'open') {
      row.detail = 'the pull request is open';
      continue;
    }
    if (pull.state === 'unknown') {
      row.detail = `GitHub did not say whether the pull request is open: ${pull.reason}`;
      out.warning(`bodywork-deploy: kept namespace=${p.namespace}: ${row.detail}`);
      continue;
    }
    if (inputs.dryRun) {
      row.action = 'would tear down';
      row.detail = 'dry run: nothing deleted';
      continue;
    }
    try {
      const { teardownProject } = await loadTeardown();
      const result = await logger.group(`Teardown of namespace=${p.namespace} (pull request #${p.pr} ${pull.state})`, () =>
        teardownProject({
          client,
          logger,
          project: p.project,
          namespace: p.namespace,
          // The same lock as deploys: a sweep never deletes a namespace in the middle of a deployment.
          lock: { timeoutMs: inputs.lockTimeoutMs, ...(context.runUrl !== undefined ? { holder: `sweep-previews (${context.runUrl})` } : {}) },
        }),
      );
      row.action = 'torn down';
      row.detail = teardownMessage(result);
    } catch (e) {
      row.action = 'failed';
      row.detail = errorMessage(e);
      continue;
    }
    const github = new GitHubPreview(token, repository, p.namespace);
    await github.deactivateAll(context.runUrl);
    row.environment = await github.deleteEnvironment();
  }

  for (const row of rows) out.info(`${row.namespace}: pull request #${row.pr} ${row.pull.state}: ${row.action}${row.detail ? ` (${row.detail})` : ''}`);
  const failed = rows.filter((r) => r.action === 'failed');
  const swept = rows.filter((r) => r.action === 'torn down' || r.action === 'would tear down').map((r) => r.namespace);
  core.setOutput('status', failed.length === 0 ? 'success' : 'failure');
  core.setOutput('swept', JSON.stringify(swept));
  await out.writeSummary(renderSweepSummary(repository, rows, context, inputs.dryRun));
  if (failed.length > 0) out.fail(`bodywork-deploy: could not tear down ${failed.map((r) => `namespace=${r.namespace} (${r.detail})`).join('; ')}`);
}

const ACTION_ICON: Record<SweepRow['action'], string> = { kept: '✅', 'torn down': '🧹', 'would tear down': '🔎', failed: '❌' };

/** The job summary: one row per preview namespace, every piece of text escaped (PR titles are anyone's). */
export function renderSweepSummary(repository: string, rows: SweepRow[], context: RunContext, dryRun: boolean): string {
  const server = (context.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
  const count = (a: SweepRow['action']) => rows.filter((r) => r.action === a).length;
  const totals = dryRun
    ? `${count('would tear down')} would be torn down (dry run), ${count('kept')} kept`
    : `${count('torn down')} torn down, ${count('kept')} kept${count('failed') > 0 ? `, ${count('failed')} failed` : ''}`;
  let md = `## 🧹 Bodywork preview sweep: ${code(repository)}\n\n${rows.length} preview namespace${rows.length === 1 ? '' : 's'}: ${escapeHtml(totals)}.\n\n`;
  if (rows.length === 0) return md;
  md += table(
    ['Namespace', 'Pull request', 'State', 'Action', 'GitHub environment'],
    rows.map((r) => {
      const url = `${server}/${repository}/pull/${r.pr}`;
      const title = 'title' in r.pull ? ` ${escapeHtml(r.pull.title)}` : '';
      return [
        code(r.namespace),
        `<a href="${escapeHtml(url)}">&#35;${r.pr}</a>${title}`,
        escapeHtml(r.pull.state),
        `${ACTION_ICON[r.action]} ${escapeHtml(r.action)}${r.detail ? `: ${escapeHtml(r.detail)}` : ''}`,
        r.environment ? escapeHtml(ENVIRONMENT_OUTCOME_TEXT[r.environment]) : '',
      ];
    }),
  );
  return md;
}
