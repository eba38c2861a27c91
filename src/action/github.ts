/**
 * PR previews on GitHub: one sticky comment per preview namespace (found by a hidden marker, updated in place) and
 * a GitHub deployment per preview environment, whose statuses carry the environment URL and end `inactive` on
 * teardown. The API base URL is the runner's GITHUB_API_URL (GHES, and the tests' local fake).
 *
 * Nothing here may fail a deploy: every API failure becomes a warning (a token without `pull-requests: write` or
 * `deployments: write` is common).
 */
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';

type Octokit = ReturnType<typeof getOctokit>;

/** Room for a comment's body under GitHub's 65536-character limit, with the marker and a note. */
const COMMENT_LIMIT = 65_000;

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

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
      core.warning(`bodywork-deploy: could not ${what}: ${e instanceof Error ? e.message : String(e)}${hint}`);
      return undefined;
    }
  }

  /** Creates or updates (by its marker) the comment for this namespace on PR `number`; the body gets the marker first. */
  async upsertComment(number: number, body: string): Promise<void> {
    const marker = commentMarker(this.namespace);
    // GitHub refuses comments over 65536 characters.
    const text = `${marker}\n${body.length > COMMENT_LIMIT ? `${body.slice(0, COMMENT_LIMIT)}\n\n… (cut: see the job summary)` : body}`;
    await this.attempt(`update the PR comment on #${number}`, async () => {
      const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, { owner: this.owner, repo: this.repo, issue_number: number, per_page: 100 });
      const ours = comments.find((c) => c.body?.includes(marker));
      if (ours) {
        await this.octokit.rest.issues.updateComment({ owner: this.owner, repo: this.repo, comment_id: ours.id, body: text });
        core.info(`updated the preview comment on pull request #${number}`);
      } else {
        await this.octokit.rest.issues.createComment({ owner: this.owner, repo: this.repo, issue_number: number, body: text });
        core.info(`commented on pull request #${number}`);
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
        description,
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
        ...(opts.environmentUrl !== undefined ? { environment_url: opts.environmentUrl } : {}),
        ...(opts.logUrl !== undefined ? { log_url: opts.logUrl } : {}),
        ...(opts.description !== undefined ? { description: opts.description.slice(0, 140) } : {}),
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
}
