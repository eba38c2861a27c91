/**
 * PR previews on GitHub: one sticky comment per preview namespace (found by a hidden marker, updated in place) and
 * a GitHub deployment per preview environment, whose statuses carry the environment URL and end `inactive` on
 * teardown. The API base URL is the runner's GITHUB_API_URL (GHES, and the tests' local fake).
 *
 * Only a comment written by the token's own identity is ever edited (anyone can write the marker into theirs):
 * `GET /user` for a user's token; an installation token (GITHUB_TOKEN) may not call it, and writes as
 * `github-actions[bot]`. Every text posted is redacted (redact.ts): the API does not mask anything.
 *
 * Nothing here may fail a deploy: every API failure becomes a warning (a token without `pull-requests: write` or
 * `deployments: write` is common). Deleting a preview's environment needs more than any GITHUB_TOKEN can be granted
 * (the repository's Administration permission), so its 403 is expected and explained, not an error.
 */
import { getOctokit } from '@actions/github';
import * as out from './output.js';
import { redact } from './redact.js';
import { errorMessage } from '../engine/index.js';

type Octokit = ReturnType<typeof getOctokit>;

/** Room for a comment's body under GitHub's 65536-character limit, with the marker and a note. */
const COMMENT_LIMIT = 65_000;

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

/** What became of a preview's GitHub environment: deleted, already gone, or left (the token may not, or the API failed). */
export type EnvironmentOutcome = 'deleted' | 'absent' | 'forbidden' | 'failed';

/** The warning for a token that may not delete environments: which permission, and how to get a token that has it. */
export const ENVIRONMENT_PERMISSION_HINT =
  'deleting an environment needs a token with the repository permission "Administration: write", which the workflow\'s GITHUB_TOKEN cannot be granted: ' +
  'pass a fine-grained personal access token or a GitHub App installation token with "Administration: write" as github-token (its deployments were marked inactive)';

/** How each outcome reads in a summary (escaped by the caller). */
export const ENVIRONMENT_OUTCOME_TEXT: Record<EnvironmentOutcome, string> = {
  deleted: 'deleted',
  absent: 'already gone',
  forbidden: 'kept: the token lacks “Administration: write” (see the warning)',
  failed: 'kept: the API failed (see the warning)',
};

const errorStatus = (e: unknown) => (e as { status?: number }).status;
const errorText = (e: unknown) => errorMessage(e);

/** Who GITHUB_TOKEN (the Actions app's installation token) writes as. */
export const ACTIONS_BOT = 'github-actions[bot]';

/** The hidden HTML comment that identifies our comment for `namespace` on a PR. */
export function commentMarker(namespace: string): string {
  return `<!-- bodywork-deploy:${namespace} -->`;
}

export class GitHubPreview {
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;

  constructor(
    token: string,
    repository: string,
    private readonly namespace: string,
  ) {
    this.octokit = getOctokit(token);
    const [owner, repo] = repository.split('/');
    this.owner = owner;
    this.repo = repo;
  }

  private async attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      const status = (e as { status?: number }).status;
      const hint = status === 403 || status === 404 ? ' (does the workflow grant the token `pull-requests: write` and `deployments: write`?)' : '';
      out.warning(redact(`bodywork-deploy: could not ${what}: ${errorMessage(e)}${hint}`));
      return undefined;
    }
  }

  /** The login the token writes as: its user's, or the Actions bot's for an installation token. */
  private async identity(): Promise<string> {
    try {
      const { data } = await this.octokit.rest.users.getAuthenticated();
      return data.login;
    } catch (e) {
      const status = (e as { status?: number }).status;
      // "Resource not accessible by integration": an installation token such as GITHUB_TOKEN.
      if (status === 403 || status === 401 || status === 404) return ACTIONS_BOT;
      throw e;
    }
  }

  /**
   * Creates or updates (by its marker) the comment for this namespace on PR `number`; the body gets the marker
   * first. `body` is markdown built from escapeHtml'd (so redacted) text.
   */
  async upsertComment(number: number, body: string): Promise<void> {
    const marker = commentMarker(this.namespace);
    // GitHub refuses comments over 65536 characters.
    const text = `${marker}\n${body.length > COMMENT_LIMIT ? `${body.slice(0, COMMENT_LIMIT)}\n\n… (cut: see the job summary)` : body}`;
    await this.attempt(`update the PR comment on #${number}`, async () => {
      const me = await this.identity();
      const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, { owner: this.owner, repo: this.repo, issue_number: number, per_page: 100 });
      const ours = comments.find((c) => c.user?.login === me && c.body?.includes(marker));
      if (ours) {
        await this.octokit.rest.issues.updateComment({ owner: this.owner, repo: this.repo, comment_id: ours.id, body: text });
        out.info(`updated the preview comment on pull request #${number}`);
      } else {
        await this.octokit.rest.issues.createComment({ owner: this.owner, repo: this.repo, issue_number: number, body: text });
        out.info(`commented on pull request #${number}`);
      }
    });
  }

  /** Creates a deployment of `ref` to the preview environment (named after the namespace); its id, or undefined. */
  async createDeployment(ref: string, description: string): Promise<number | undefined> {
    return this.attempt('create a GitHub deployment', async () => {
      const { data } = await this.octokit.rest.repos.createDeployment({
        owner: this.owner,
        repo: this.repo,
        ref,
        environment: this.namespace,
        description: redact(description),
        auto_merge: false,
        required_contexts: [],
        transient_environment: true,
        production_environment: false,
      });
      return 'id' in data ? data.id : undefined;
    });
  }

  async setStatus(deploymentId: number, state: DeploymentState, opts: { environmentUrl?: string; logUrl?: string; description?: string }): Promise<void> {
    await this.attempt(`set the GitHub deployment status to ${state}`, async () => {
      await this.octokit.rest.repos.createDeploymentStatus({
        owner: this.owner,
        repo: this.repo,
        deployment_id: deploymentId,
        state,
        ...(opts.environmentUrl !== undefined ? { environment_url: redact(opts.environmentUrl) } : {}),
        ...(opts.logUrl !== undefined ? { log_url: redact(opts.logUrl) } : {}),
        // Redacted before it is cut: a cut secret would no longer match.
        ...(opts.description !== undefined ? { description: redact(opts.description).slice(0, 140) } : {}),
        auto_inactive: state === 'success',
      });
    });
  }

  /** Marks every deployment of the preview environment inactive (the environment shows as destroyed). */
  async deactivateAll(logUrl?: string): Promise<number> {
    const deployments = await this.attempt('list the GitHub deployments of the preview', () =>
      this.octokit.paginate(this.octokit.rest.repos.listDeployments, { owner: this.owner, repo: this.repo, environment: this.namespace, per_page: 100 }),
    );
    for (const d of deployments ?? []) {
      await this.setStatus(d.id, 'inactive', { ...(logUrl !== undefined ? { logUrl } : {}), description: 'preview torn down' });
    }
    return deployments?.length ?? 0;
  }

  /** Deletes the preview's environment (named after the namespace). A 403 is a warning naming the permission. */
  async deleteEnvironment(): Promise<EnvironmentOutcome> {
    try {
      await this.octokit.rest.repos.deleteAnEnvironment({ owner: this.owner, repo: this.repo, environment_name: this.namespace });
      out.info(`deleted the GitHub environment ${this.namespace}`);
      return 'deleted';
    } catch (e) {
      const status = errorStatus(e);
      if (status === 404) {
        out.info(`the GitHub environment ${this.namespace} does not exist: nothing to delete`);
        return 'absent';
      }
      const why = status === 403 || status === 401 ? ENVIRONMENT_PERMISSION_HINT : 'the API failed';
      out.warning(redact(`bodywork-deploy: could not delete the GitHub environment ${this.namespace}: ${errorText(e)}; ${why}`));
      return status === 403 || status === 401 ? 'forbidden' : 'failed';
    }
  }
}

/** A pull request's state as a sweep sees it: `gone` when GitHub answers 404 (deleted, or never existed). */
export type PullRequestState = { state: 'open' | 'closed' | 'merged'; title: string } | { state: 'gone' } | { state: 'unknown'; reason: string };

/** The repository's pull requests, read for `sweep-previews`. */
export class GitHubPulls {
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;

  constructor(token: string, repository: string) {
    this.octokit = getOctokit(token);
    [this.owner, this.repo] = repository.split('/');
  }

  /**
   * Throws unless the token can read the repository: otherwise every pull request would answer 404 and look gone,
   * and a sweep would tear down every preview.
   */
  async checkAccess(): Promise<void> {
    try {
      await this.octokit.rest.repos.get({ owner: this.owner, repo: this.repo });
    } catch (e) {
      throw new Error(redact(`cannot read the repository ${this.owner}/${this.repo} with github-token (${errorText(e)}): no preview was swept; the token needs \`contents: read\` and \`pull-requests: read\``), { cause: e });
    }
  }

  async state(number: number): Promise<PullRequestState> {
    try {
      const { data } = await this.octokit.rest.pulls.get({ owner: this.owner, repo: this.repo, pull_number: number });
      const state = data.merged ? 'merged' : data.state === 'open' ? 'open' : 'closed';
      return { state, title: data.title };
    } catch (e) {
      if (errorStatus(e) === 404) return { state: 'gone' };
      return { state: 'unknown', reason: redact(errorText(e)) };
    }
  }
}
