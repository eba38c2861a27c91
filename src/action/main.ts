/**
 * The GitHub Action's entry point: a thin shell over the engine. Credentials are read and masked first; then the
 * project is loaded and validated (config problems become log lines, annotations on their file and line, and a job
 * summary linking to them), and the command runs: `deploy` (the default), `plan` or `teardown`. On pull_request
 * events (`preview: auto`) the project goes to its own namespace `<namespace>-pr-<number>`, with a sticky PR comment
 * and a GitHub deployment; a closed PR tears that namespace down and deletes its GitHub environment.
 * `sweep-previews` (sweep.ts) loads no project: it tears down the previews whose pull request is no longer open.
 */
import * as core from '@actions/core';
import { isAbsolute, join, relative, sep } from 'node:path';
import { loadDeploy, loadDryRun, loadTeardown, problemsLine, verdictLine, loadProject, loadKube, KubeConfigError, registrySecret, newRunId as newEngineRunId, bundleProject, planNamespace, planProject, REGISTRY_SECRET, errorMessage, type KubeClient, type ProjectSpec, type DeployResult, type Logger, type RegistryCredentials, type DeployPlan, type PlannedServiceStage, type PlanOptions, type SecretInput } from '../engine/index.js';
import { maskConnectionSecrets, resolveKubeconfig } from './credentials.js';
import {
  failureLine,
  fillPublicUrl,
  headerTable,
  primaryUrl,
  renderDeploySummary,
  renderPreviewComment,
  renderTornDownComment,
  serviceUrls,
  stagesOutput,
  teardownMessage,
} from './deploy-summary.js';
import { renderConfigSummary } from './config-summary.js';
import type { GitHubPreview } from './github.js';
import { inputLines, readInputs, type ActionInputs } from './inputs.js';
import { actionLogger, joinPath } from './logger.js';
import { code, escapeHtml } from './markdown.js';
import * as out from './output.js';
import { renderPlanSummary } from './plan-summary.js';
import { PULL_REQUEST_EVENTS, previewNamespace, readRunContext, type RunContext } from './run-context.js';

class ActionFailure extends Error {}

interface Run {
  inputs: ActionInputs;
  context: RunContext;
  logger: Logger;
  spec: ProjectSpec;
  namespace: string;
  /** Set when this run is a PR preview. */
  preview?: { number: number; closed: boolean };
  kubeconfigInput?: string;
  secrets: SecretInput[];
  /** The `git-token` input (masked), for the `git` code source. */
  gitToken?: string;
  /** `registry-server`, `registry-username`, `registry-password` (masked in every form): the `bodywork-registry` Secret. */
  registry?: RegistryCredentials;
}

/** The Secret the `git-token` input is stored in, in the namespace, for the `git` code source's clone. */
export const GIT_TOKEN_SECRET = 'bodywork-git-token';

export async function run(): Promise<void> {
  try {
    // Credentials first (readInputs masks them before reading the rest): nothing may be logged before.
    const inputs = readInputs();
    for (const line of inputLines(inputs)) out.debug(line);
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

    if (inputs.command === 'plan') return await planCommand(r);
    if (inputs.command === 'status' || inputs.command === 'cancel') {
      return await (await import('./runner.js')).runnerCommand(inputs.command, await connect(r), logger, r.namespace, spec.name, { context, ...(await previewComment(r)) });
    }
    if (inputs.command === 'teardown' || r.preview?.closed) return await teardownCommand(r);
    return await deployCommand(r);
  } catch (error) {
    const message = errorMessage(error);
    core.setOutput('status', 'failure');
    out.fail(`bodywork-deploy: ${message}`);
    // The summary says it too (a run stopped before deploying has no other report).
    await out.writeSummary(`## ❌ Bodywork deploy failed\n\n${escapeHtml(message)}\n`);
  }
}

/** The image pull secrets of the planned pods: the named ones, and `bodywork-registry` when credentials are given. */
function pullSecretNames(r: Run): string[] | undefined {
  const names = [...(r.inputs.imagePullSecrets ?? []), ...(r.registry !== undefined ? [REGISTRY_SECRET] : [])];
  return names.length > 0 ? names : undefined;
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

/** A run id: GITHUB_RUN_ID, the attempt and a random part (engine/settings.ts newRunId says why). */
function newRunId(r: Run): string {
  return newEngineRunId({ ...(r.context.runId !== undefined ? { runId: r.context.runId } : {}), ...(r.context.runAttempt !== undefined ? { attempt: r.context.runAttempt } : {}) });
}

/** The Secrets a deploy applies from the `secrets` and `git-token` inputs. */
function inputSecrets(r: Run) {
  return [
    ...r.secrets,
    ...(r.gitToken !== undefined ? [{ name: GIT_TOKEN_SECRET, data: { token: r.gitToken } }] : []),
    ...(r.registry !== undefined ? [registrySecret(r.registry)] : []),
  ];
}

/**
 * `command: plan`. With the `kubeconfig` input, also a server-side dry run of every object (engine/deploy/dry-run.ts),
 * its verdict and diff in the summary, failing the step when the server refuses any. Without it no cluster is touched
 * (a runner's own ~/.kube/config is not reason enough to start talking to a cluster).
 */
async function planCommand(r: Run): Promise<void> {
  const server = r.kubeconfigInput !== undefined;
  const plan = planProject(r.spec, { namespace: r.namespace, ...planInputs(r), ...(server ? { runId: newRunId(r) } : {}), ...(await codeInputs(r)) });
  if (!server) {
    await out.writeSummary(renderPlanSummary(plan, r.context));
    core.setOutput('status', 'success');
    out.info(`planned ${plan.steps.length} steps for ${plan.project} in namespace ${plan.namespace}; see the job summary`);
    return;
  }
  const client = await connect(r);
  const { checkOnServer } = await loadDryRun();
  const check = await r.logger.group(`Server-side dry run in namespace=${plan.namespace}`, () => checkOnServer({ client, logger: r.logger, plan, secrets: inputSecrets(r) }));
  for (const o of check.refused) r.logger.error(`the API server refuses ${o.object}: ${o.message ?? ''}`);
  for (const m of check.missingSecrets) r.logger.error(`${m.usedBy}: ${m.message}`);
  await out.writeSummary(renderPlanSummary(plan, r.context, check));
  core.setOutput('status', check.ok ? 'success' : 'failure');
  out.info(`planned ${plan.steps.length} steps for ${plan.project} in namespace ${plan.namespace}: ${verdictLine(check)}; see the job summary`);
  if (!check.ok) out.fail(`bodywork-deploy: ${problemsLine(check)}`);
}

function planInputs(r: Run) {
  const { inputs, context } = r;
  return {
    ...(inputs.image !== undefined ? { image: inputs.image } : {}),
    ...(inputs.ingressClass !== undefined ? { ingressClass: inputs.ingressClass } : {}),
    ...(inputs.stages !== undefined ? { stages: inputs.stages } : {}),
    ...(context.sha !== undefined ? { commitSha: context.sha } : {}),
    ...(pullSecretNames(r) !== undefined ? { imagePullSecrets: pullSecretNames(r) } : {}),
    // Labels the preview's namespace with its pull request, for sweep-previews.
    ...(r.preview && context.repository !== undefined ? { preview: { pr: r.preview.number, repository: context.repository } } : {}),
  };
}

/** A client for the kubeconfig input (or KUBECONFIG, ~/.kube/config), every credential masked. */
async function connect(r: Pick<Run, 'inputs' | 'context' | 'logger' | 'kubeconfigInput'>): Promise<KubeClient> {
  try {
    const { loaded } = await resolveKubeconfig(r.kubeconfigInput, r.inputs.context);
    await maskConnectionSecrets(loaded);
    r.logger.debug(`kubeconfig from ${loaded.source}, context ${loaded.context}, server ${loaded.server}`);
    const { KubeClient } = await loadKube();
    return KubeClient.create(loaded.kc, r.logger);
  } catch (error) {
    const pr = r.context.pullRequest;
    if (error instanceof KubeConfigError && r.kubeconfigInput === undefined && pr?.fromFork && r.context.eventName === 'pull_request') {
      throw new ActionFailure(
        `no kubeconfig: pull request #${pr.number} comes from the fork ${pr.headRepo ?? '(deleted repository)'}, and GitHub does not pass secrets to pull_request workflows from forks, so the kubeconfig input is empty. ` +
          "Skip this step for forks (if: github.event.pull_request.head.repo.full_name == github.repository), or deploy fork PRs from a reviewed pull_request_target workflow with allow-forks: true.",
      );
    }
    throw error;
  }
}

// Octokit (previews only), the deploy engine and teardown are imported when a run needs them: the action's start, up
// to its first API request, then parses no more than it uses (see scripts/build.mjs).
async function githubPreview(r: Run): Promise<GitHubPreview | undefined> {
  if (!r.preview || !r.inputs.githubToken || !r.context.repository) return undefined;
  const { GitHubPreview } = await import('./github.js');
  return new GitHubPreview(r.inputs.githubToken, r.context.repository, r.namespace);
}

/** The preview's sticky PR comment, for the in-cluster runner (runner.ts): set on a preview with `comment: true`. */
async function previewComment(r: Run): Promise<{ comment?: (body: string) => Promise<void> }> {
  const github = r.inputs.comment ? await githubPreview(r) : undefined;
  const number = r.preview?.number;
  return github && number !== undefined ? { comment: (body) => github.upsertComment(number, body) } : {};
}

/**
 * The plan options of the `code-source` input: the code bundle, or for `git` this repository
 * (`$GITHUB_SERVER_URL/$GITHUB_REPOSITORY.git`) at GITHUB_SHA, the project directory's path in it, and the token Secret.
 */
async function codeInputs(r: Run): Promise<Pick<PlanOptions, 'codeBundle' | 'codeSource' | 'repoSubdir'>> {
  if (r.inputs.codeSource === 'bundle') return { codeBundle: await bundleProject(r.spec, (m) => r.logger.debug(m)) };
  const { repository, sha, workspace } = r.context;
  if (repository === undefined || sha === undefined) throw new ActionFailure('code-source: git needs GITHUB_REPOSITORY and GITHUB_SHA (set on every GitHub Actions runner)');
  const server = (r.context.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
  const dir = isAbsolute(r.inputs.projectDir) ? r.inputs.projectDir : join(workspace, r.inputs.projectDir);
  const subdir = relative(workspace, dir).split(sep).join('/');
  if (subdir === '..' || subdir.startsWith('../') || isAbsolute(subdir)) throw new ActionFailure(`code-source: git needs project-dir inside the checked-out repository (${workspace}), got ${r.inputs.projectDir}`);
  return {
    codeSource: { type: 'git', url: `${server}/${repository}.git`, commit: sha, ...(r.gitToken !== undefined ? { tokenSecret: GIT_TOKEN_SECRET } : {}) },
    ...(subdir !== '' ? { repoSubdir: subdir } : {}),
  };
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
  const client = await connect(r);
  // Per-run Job names derive from the run id, so it must differ between any two deploys: GITHUB_RUN_ID, the attempt
  // (re-runs) and a random part (two steps of one job deploying the same project).
  const runId = newRunId(r);
  const code = await codeInputs(r);
  const plan = planProject(r.spec, { namespace: r.namespace, ...planInputs(r), runId, ...code });
  if (r.inputs.runner === 'cluster') {
    const { deployInCluster } = await import('./runner.js');
    const { inputs } = r;
    const settings = { timeoutMs: inputs.timeoutMs, lockTimeoutMs: inputs.lockTimeoutMs, keepJobs: inputs.keepJobs, prune: inputs.prune, ...planInputs(r) };
    const runner = { client, logger: r.logger, spec: r.spec, plan, code, runId, secrets: inputSecrets(r), settings, context: r.context };
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

async function teardownCommand(r: Run): Promise<void> {
  const client = await connect(r);
  const plan = planProject(r.spec, { namespace: r.namespace });
  const { teardownProject } = await loadTeardown();
  const result = await r.logger.group(`Teardown of namespace=${r.namespace}`, () =>
    teardownProject({
      client,
      logger: r.logger,
      project: r.spec.name,
      namespace: r.namespace,
      // Never in the middle of a deployment: wait for its lock as a deploy would.
      lock: { timeoutMs: r.inputs.lockTimeoutMs, ...(r.context.runUrl !== undefined ? { holder: `teardown (${r.context.runUrl})` } : {}) },
    }),
  );
  const message = teardownMessage(result);
  out.info(message);
  core.setOutput('status', 'success');
  const why = r.preview?.closed ? `pull request #${r.preview.number} was closed: ` : '';
  const github = await githubPreview(r);
  let environment = '';
  if (github && r.preview) {
    const n = await github.deactivateAll(r.context.runUrl);
    out.info(`marked ${n} GitHub deployment${n === 1 ? '' : 's'} of ${r.namespace} inactive`);
    // Deactivated first: when the token may not delete the environment, it still shows as torn down.
    const deleted = await github.deleteEnvironment();
    const { ENVIRONMENT_OUTCOME_TEXT } = await import('./github.js');
    environment = `\nGitHub environment ${code(r.namespace)}: ${escapeHtml(ENVIRONMENT_OUTCOME_TEXT[deleted])}.\n`;
    if (r.inputs.comment) await github.upsertComment(r.preview.number, renderTornDownComment(r.namespace, r.context, why + message));
  }
  await out.writeSummary(`## 🧹 Bodywork teardown: ${escapeHtml(plan.project)}\n\n${headerTable(plan.project, r.namespace, r.context)}\n${escapeHtml(why + message)}\n${environment}`);
}
