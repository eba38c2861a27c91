/**
 * The GitHub Action's run (index.ts, the entry point, calls it): a thin shell over the engine. The inputs are read,
 * credentials masked first (inputs.ts); then the
 * project is loaded and validated (config problems become log lines, annotations on their file and line, and a job
 * summary linking to them), and the command runs: `deploy` (the default), `plan` or `teardown`. On pull_request
 * events (`preview: auto`) the project goes to its own namespace `<namespace>-pr-<number>`, with a sticky PR comment
 * and a GitHub deployment; a closed PR tears that namespace down and deletes its GitHub environment.
 * `sweep-previews` (sweep.ts) loads no project: it tears down the previews whose pull request is no longer open.
 * `plan` and `teardown` are plan-command.ts and teardown-command.ts; what the commands share is run.ts.
 */
import * as core from '@actions/core';
import { isAbsolute, join, relative, sep } from 'node:path';
import { loadDeploy, loadProject, planNamespace, planProject, errorMessage, type DeployResult, type DeployPlan, type DeploySettings, type PlannedServiceStage } from '../engine/index.js';
import {
  failureLine,
  fillPublicUrl,
  primaryUrl,
  renderDeploySummary,
  renderPreviewComment,
  serviceUrls,
  stagesOutput,
} from './deploy-summary.js';
import { renderConfigSummary } from './config-summary.js';
import { readInputs, type ActionInputs } from './inputs.js';
import { actionLogger, joinPath } from './logger.js';
import { escapeHtml } from './markdown.js';
import * as out from './output.js';
import { planCommand } from './plan-command.js';
import { PULL_REQUEST_EVENTS, previewNamespace, readRunContext, type RunContext } from './run-context.js';
import { ActionFailure, codeInputs, connect, githubPreview, inputSecrets, logInputs, newRunId, planInputs, previewComment, type Run } from './run.js';
import { teardownCommand } from './teardown-command.js';

export async function run(): Promise<void> {
  let read: ActionInputs | undefined;
  try {
    // Credentials first (readInputs masks them before reading the rest): nothing may be logged before.
    const inputs = readInputs();
    read = inputs;
    const { kubeconfig: kubeconfigInput, secrets, gitToken, registry } = inputs;
    const context = readRunContext();
    if (inputs.command === 'sweep-previews') {
      // Before any project is read: the sweep works from the namespaces' labels, and runs no pull request's code.
      const logger = actionLogger('.');
      const client = await connect({ inputs, context, logger, ...(kubeconfigInput !== undefined ? { kubeconfigInput } : {}) });
      // Loaded only for a sweep: it brings Octokit and the teardown engine.
      const { sweepPreviews } = await import('./sweep.js');
      return await sweepPreviews({ client, logger, inputs, context });
    }
    // Before the project is read: a fork's config must not even be parsed (its problems would be printed).
    refuseForks(inputs, context);
    const dir = isAbsolute(inputs.projectDir) ? inputs.projectDir : join(context.workspace, inputs.projectDir);
    // Annotations, log lines and links name files from the repository root (the workspace).
    const projectPath = relative(context.workspace, dir).split(sep).join('/') || '.';
    const logger = actionLogger(projectPath);

    const { spec, problems } = await loadProject(dir);
    if (problems.length > 0) logInputs(inputs);
    for (const problem of problems) {
      if (problem.severity === 'error') logger.error(problem.message, problem);
      else logger.warn(problem.message, problem);
    }
    if (!spec) {
      const errors = problems.filter((p) => p.severity === 'error').length;
      core.setOutput('status', 'failure');
      out.fail(`bodywork-deploy: ${errors} configuration problem${errors === 1 ? '' : 's'} in ${inputs.projectDir}; nothing was deployed`);
      await out.writeSummary(renderConfigSummary(inputs.command, projectPath, problems.map((p) => ({ ...p, file: joinPath(projectPath, p.file) })), context));
      return;
    }

    const pr = context.pullRequest;
    const isPrEvent = context.eventName !== undefined && PULL_REQUEST_EVENTS.includes(context.eventName);
    if (inputs.preview === 'true' && !pr) throw new ActionFailure(`preview: true needs a pull_request or pull_request_target event with a pull request in its payload (this run's event: ${context.eventName ?? 'unknown'})`);
    const previewOn = pr !== undefined && (inputs.preview === 'true' || (inputs.preview === 'auto' && isPrEvent));
    const base = planNamespace(spec, inputs.namespace);
    const r: Run = {
      inputs,
      context,
      logger,
      spec,
      namespace: previewOn ? previewNamespace(base, pr.number) : base,
      ...(previewOn ? { preview: { number: pr.number, closed: pr.action === 'closed' } } : {}),
      ...(kubeconfigInput !== undefined ? { kubeconfigInput } : {}),
      secrets,
      ...(gitToken !== undefined ? { gitToken } : {}),
      ...(registry !== undefined ? { registry } : {}),
    };
    if (gitToken !== undefined && inputs.codeSource !== 'git') throw new ActionFailure('git-token is for code-source: git; set code-source: git or remove git-token');
    core.setOutput('namespace', r.namespace);

    if (inputs.command === 'plan') {
      // Before planning, whose bundle debug lines come before any connection (the dry run) anyway.
      logInputs(inputs);
      return await planCommand(r);
    }
    if (inputs.command === 'status' || inputs.command === 'cancel') {
      return await (await import('./runner.js')).runnerCommand(inputs.command, await connect(r), logger, r.namespace, spec.name, { context, ...(await previewComment(r)) });
    }
    if (inputs.command === 'teardown' || r.preview?.closed) return await teardownCommand(r);
    return await deployCommand(r);
  } catch (error) {
    const message = errorMessage(error);
    if (read !== undefined) logInputs(read);
    core.setOutput('status', 'failure');
    out.fail(`bodywork-deploy: ${message}`);
    // The summary says it too (a run stopped before deploying has no other report).
    await out.writeSummary(`## ❌ Bodywork deploy failed\n\n${escapeHtml(message)}\n`);
  }
}

/** On pull_request_target, a fork's PR runs with this repository's secrets: refuse to deploy its code (not `plan`). */
function refuseForks(inputs: ActionInputs, context: RunContext): void {
  const pr = context.pullRequest;
  if (inputs.command === 'plan' || context.eventName !== 'pull_request_target' || !pr?.fromFork || inputs.allowForks) return;
  throw new ActionFailure(
    `refusing to ${inputs.command} pull request #${pr.number} from the fork ${pr.headRepo ?? '(deleted repository)'} on pull_request_target: ` +
      'this event runs with the base repository\'s secrets (your kubeconfig), and deploying the fork\'s code would let anyone who opens a pull request run code in your cluster with them. ' +
      'Review the change and set allow-forks: true only for workflows that need it (for example behind an environment with required reviewers).',
  );
}

function withPublicUrls(result: DeployResult, plan: DeployPlan, r: Run): DeployResult {
  const template = r.inputs.publicUrl;
  if (template === undefined) return result;
  const planned = new Map(plan.steps.flatMap((s) => s.stages).filter((s): s is PlannedServiceStage => s.type === 'service').map((s) => [s.stage, s]));
  return {
    ...result,
    stages: result.stages.map((s) => {
      const p = planned.get(s.stage);
      if (s.type !== 'service' || !p) return s;
      const service = p.service.metadata?.name ?? p.baseName;
      return { ...s, publicUrl: fillPublicUrl(template, { namespace: result.namespace, service, stage: s.stage, ...(r.preview ? { pr: r.preview.number } : {}) }) };
    }),
  };
}

async function deployCommand(r: Run): Promise<void> {
  // Started now, awaited once the plan is ready: the engine's chunk loads while the project's files are read.
  const engine = loadDeploy();
  // Side by side: the client (client-node's chunk to load) and the code bundle (git and the project's files to read).
  const [client, code] = await Promise.all([connect(r), codeInputs(r)]);
  // Per-run Job names derive from the run id, so it must differ between any two deploys: GITHUB_RUN_ID, the attempt
  // (re-runs) and a random part (two steps of one job deploying the same project).
  const runId = newRunId(r);
  const plan = planProject(r.spec, { namespace: r.namespace, ...planInputs(r), runId, ...code });
  if (r.inputs.runner === 'cluster') {
    const { deployInCluster } = await import('./runner.js');
    const { inputs } = r;
    // The engine's DeploySettings of the inputs, with the image pull secrets the plan has (the registry's among them).
    const { commitSha, preview: _preview, ...planned } = planInputs(r);
    const settings: DeploySettings = { timeoutMs: inputs.timeoutMs, lockTimeoutMs: inputs.lockTimeoutMs, keepJobs: inputs.keepJobs, prune: inputs.prune, ...planned };
    const runner = { client, logger: r.logger, spec: r.spec, plan, code, runId, secrets: inputSecrets(r), settings, ...(commitSha !== undefined ? { commitSha } : {}), context: r.context };
    return await deployInCluster({ ...runner, ...(await previewComment(r)), ...(inputs.runnerImage ? { runnerImage: inputs.runnerImage } : {}) });
  }

  const github = await githubPreview(r);
  const ref = r.context.pullRequest?.headSha ?? r.context.sha;
  const deploymentId = github && ref ? await github.createDeployment(ref, `Bodywork preview of ${plan.project} in ${plan.namespace}`) : undefined;
  if (github && deploymentId !== undefined) await github.setStatus(deploymentId, 'in_progress', { ...(r.context.runUrl ? { logUrl: r.context.runUrl } : {}) });

  // The runner cancels a step with SIGINT, then SIGTERM: stop the stages (Jobs deleted, rollouts undone).
  const cancel = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    out.info(`${signal}: cancelling the deployment`);
    cancel.abort(new Error(`the workflow run was cancelled (${signal})`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: DeployResult;
  try {
    const { deployProject } = await engine;
    result = await deployProject({
      client,
      logger: r.logger,
      spec: r.spec,
      plan,
      runId,
      signal: cancel.signal,
      timeoutMs: r.inputs.timeoutMs,
      lockTimeoutMs: r.inputs.lockTimeoutMs,
      prune: r.inputs.prune,
      keepJobs: r.inputs.keepJobs,
      ...(r.context.runUrl !== undefined ? { holder: `${runId} (${r.context.runUrl})` } : {}),
      // Each stage log line once, as the stage wrote it (the runner masks secrets in it; out.info keeps it one line, no command).
      onLogLine: (_stage, line) => out.info(line),
      // Applied by the engine under the deploy lock.
      secrets: inputSecrets(r),
    });
  } catch (error) {
    // The run never got to report (no access to Secrets, …): the GitHub deployment must not stay in progress.
    if (github && deploymentId !== undefined) await github.setStatus(deploymentId, 'error', { ...(r.context.runUrl ? { logUrl: r.context.runUrl } : {}), description: 'the deployment did not run' });
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // For the debug log (and the benchmarks, which run this bundle from outside): what the run asked of the API server.
  r.logger.debug(`API requests by verb: ${JSON.stringify(client.requestCounts())}`);
  result = withPublicUrls(result, plan, r);

  const url = primaryUrl(result);
  core.setOutput('status', result.status);
  core.setOutput('stages', JSON.stringify(stagesOutput(result)));
  core.setOutput('service-urls', JSON.stringify(serviceUrls(result)));
  core.setOutput('url', url ?? '');
  await out.writeSummary(renderDeploySummary(plan, result, r.context));

  if (github && r.preview) {
    if (r.inputs.comment) await github.upsertComment(r.preview.number, renderPreviewComment(plan, result, r.context));
    if (deploymentId !== undefined) {
      await github.setStatus(deploymentId, result.status === 'success' ? 'success' : 'failure', {
        ...(url !== undefined ? { environmentUrl: url } : {}),
        ...(r.context.runUrl ? { logUrl: r.context.runUrl } : {}),
        description: result.status === 'success' ? 'preview deployed' : failureLine(result),
      });
    }
  }
  if (result.status === 'failure') out.fail(`bodywork-deploy: ${failureLine(result)}`);
}

