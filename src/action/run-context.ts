/** What the runner tells us about this workflow run, from its environment variables and the event payload. */
import { readFileSync } from 'node:fs';

export interface PullRequestContext {
  number: number;
  /** The event's `action`: opened, synchronize, reopened, closed, … */
  action?: string;
  /** The head commit. */
  headSha?: string;
  /** The head repository is not the base repository. */
  fromFork: boolean;
  /** `owner/name` of the head repository. */
  headRepo?: string;
}

export interface RunContext {
  sha?: string;
  eventName?: string;
  runId?: string;
  /** GITHUB_RUN_ATTEMPT: 1, then 2, … for re-runs. */
  runAttempt?: string;
  runUrl?: string;
  workspace: string;
  /** `owner/name`. */
  repository?: string;
  /** GITHUB_SERVER_URL: https://github.com, or a GitHub Enterprise Server's. */
  serverUrl?: string;
  /** Set on pull_request and pull_request_target events. */
  pullRequest?: PullRequestContext;
}

/** The events whose runs are PR previews when `preview: auto`. */
export const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_target'];

/** Kubernetes namespace names are at most 63 characters. */
const MAX_NAMESPACE = 63;

/** A PR preview's namespace: `<base>-pr-<number>`, the base shortened so the whole stays a valid namespace name. */
export function previewNamespace(base: string, pr: number): string {
  const suffix = `-pr-${pr}`;
  return `${base.slice(0, MAX_NAMESPACE - suffix.length).replace(/-+$/, '')}${suffix}`;
}

interface EventPayload {
  action?: string;
  number?: number;
  pull_request?: {
    number?: number;
    head?: { sha?: string; repo?: { full_name?: string; fork?: boolean } | null };
    base?: { repo?: { full_name?: string } };
  };
}

function readEvent(path: string | undefined): EventPayload {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EventPayload;
  } catch {
    return {};
  }
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const { GITHUB_SHA, GITHUB_EVENT_NAME, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_WORKSPACE } = env;
  const context: RunContext = {
    sha: GITHUB_SHA || undefined,
    eventName: GITHUB_EVENT_NAME || undefined,
    runId: GITHUB_RUN_ID || undefined,
    runAttempt: GITHUB_RUN_ATTEMPT || undefined,
    runUrl: GITHUB_SERVER_URL && GITHUB_REPOSITORY && GITHUB_RUN_ID ? `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}` : undefined,
    workspace: GITHUB_WORKSPACE || process.cwd(),
    repository: GITHUB_REPOSITORY || undefined,
    serverUrl: GITHUB_SERVER_URL || undefined,
  };
  const event = readEvent(env.GITHUB_EVENT_PATH);
  const pr = event.pull_request;
  const number = pr?.number ?? event.number;
  if (pr && typeof number === 'number') {
    const headRepo = pr.head?.repo?.full_name;
    const baseRepo = pr.base?.repo?.full_name ?? GITHUB_REPOSITORY;
    context.pullRequest = {
      number,
      ...(event.action !== undefined ? { action: event.action } : {}),
      ...(pr.head?.sha !== undefined ? { headSha: pr.head.sha } : {}),
      // A deleted head repository (null) counts as a fork: it is not this repository.
      fromFork: pr.head?.repo === null || (headRepo !== undefined && baseRepo !== undefined && headRepo !== baseRepo),
      ...(headRepo !== undefined ? { headRepo } : {}),
    };
  }
  return context;
}
