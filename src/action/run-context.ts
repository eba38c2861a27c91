/** What the runner tells us about this workflow run, from its environment variables. */
export interface RunContext {
  sha?: string;
  eventName?: string;
  runId?: string;
  runUrl?: string;
  workspace: string;
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const { GITHUB_SHA, GITHUB_EVENT_NAME, GITHUB_RUN_ID, GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_WORKSPACE } = env;
  return {
    sha: GITHUB_SHA || undefined,
    eventName: GITHUB_EVENT_NAME || undefined,
    runId: GITHUB_RUN_ID || undefined,
    runUrl: GITHUB_SERVER_URL && GITHUB_REPOSITORY && GITHUB_RUN_ID ? `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}` : undefined,
    workspace: GITHUB_WORKSPACE || process.cwd(),
  };
}
