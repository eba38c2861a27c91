/**
 * One run of the action once its inputs are read and its project loaded (the Run record), and what its commands
 * share: the cluster connection, the plan options of the inputs, the run id and the Secrets a run writes.
 */
import { isAbsolute, join, relative, sep } from 'node:path';
import { bundleProject, KubeConfigError, loadKube, newRunId as newEngineRunId, REGISTRY_SECRET, registrySecret, type KubeClient, type Logger, type PlanOptions, type ProjectSpec, type RegistryCredentials, type SecretInput } from '../engine/index.js';
import { maskConnectionSecrets, resolveKubeconfig } from './credentials.js';
import type { GitHubPreview } from './github.js';
import { inputLines, type ActionInputs } from './inputs.js';
import * as out from './output.js';
import type { RunContext } from './run-context.js';

let inputsLogged = false;

/**
 * Each resolved input at debug, once. Called once every credential is masked: for a run that connects, after
 * connect() has masked what only the parsed kubeconfig shows, so that every mask precedes every other line.
 */
export function logInputs(inputs: ActionInputs): void {
  if (inputsLogged) return;
  inputsLogged = true;
  for (const line of inputLines(inputs)) out.debug(line);
}

/** A refusal by the action's own checks (not the engine's), reported as any failure is. */
export class ActionFailure extends Error {}

export interface Run {
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

/** The image pull secrets of the planned pods: the named ones, and `bodywork-registry` when credentials are given. */
export function pullSecretNames(r: Run): string[] | undefined {
  const names = [...(r.inputs.imagePullSecrets ?? []), ...(r.registry !== undefined ? [REGISTRY_SECRET] : [])];
  return names.length > 0 ? names : undefined;
}

/** A run id: GITHUB_RUN_ID, the attempt and a random part (engine/settings.ts newRunId says why). */
export function newRunId(r: Run): string {
  return newEngineRunId({ ...(r.context.runId !== undefined ? { runId: r.context.runId } : {}), ...(r.context.runAttempt !== undefined ? { attempt: r.context.runAttempt } : {}) });
}

/** The Secrets a deploy applies from the `secrets` and `git-token` inputs. */
export function inputSecrets(r: Run) {
  return [
    ...r.secrets,
    ...(r.gitToken !== undefined ? [{ name: GIT_TOKEN_SECRET, data: { token: r.gitToken } }] : []),
    ...(r.registry !== undefined ? [registrySecret(r.registry)] : []),
  ];
}

export function planInputs(r: Run) {
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
export async function connect(r: Pick<Run, 'inputs' | 'context' | 'logger' | 'kubeconfigInput'>): Promise<KubeClient> {
  try {
    const { loaded } = await resolveKubeconfig(r.kubeconfigInput, r.inputs.context);
    await maskConnectionSecrets(loaded);
    logInputs(r.inputs);
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
export async function githubPreview(r: Run): Promise<GitHubPreview | undefined> {
  if (!r.preview || !r.inputs.githubToken || !r.context.repository) return undefined;
  const { GitHubPreview } = await import('./github.js');
  return new GitHubPreview(r.inputs.githubToken, r.context.repository, r.namespace);
}

/** The preview's sticky PR comment, for the in-cluster runner (runner.ts): set on a preview with `comment: true`. */
export async function previewComment(r: Run): Promise<{ comment?: (body: string) => Promise<void> }> {
  const github = r.inputs.comment ? await githubPreview(r) : undefined;
  const number = r.preview?.number;
  return github && number !== undefined ? { comment: (body) => github.upsertComment(number, body) } : {};
}

/**
 * The plan options of the `code-source` input: the code bundle, or for `git` this repository
 * (`$GITHUB_SERVER_URL/$GITHUB_REPOSITORY.git`) at GITHUB_SHA, the project directory's path in it, and the token Secret.
 */
export async function codeInputs(r: Run): Promise<Pick<PlanOptions, 'codeBundle' | 'codeSource' | 'repoSubdir'>> {
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
