/**
 * The deploy settings both shells offer (the action's inputs, the CLI's flags): one DeploySettings type, its defaults
 * and its parsers (durations from engine/duration.ts, counts, lists, run ids), in one place, so `timeout:` and
 * `--timeout` cannot drift apart.
 */
import { randomBytes } from 'node:crypto';
import { DURATION_EXPECTED, parseDuration } from './duration.js';

/** How long a run may take before its running stages are cancelled. */
export const DEFAULT_TIMEOUT = '30m';
/** How long a run waits for another run's deploy lock on the namespace. */
export const DEFAULT_LOCK_TIMEOUT = '10m';
/** Finished Jobs kept per batch stage, so `kubectl logs job/<name>` still shows the last run. */
export const DEFAULT_KEEP_JOBS = 1;

/** DEFAULT_LOCK_TIMEOUT in milliseconds, for the engine. */
export const DEFAULT_LOCK_TIMEOUT_MS = parseDuration(DEFAULT_LOCK_TIMEOUT)!;

/** What a count must be, for input and flag errors. */
export const COUNT_EXPECTED = 'a whole number of 0 or more';

/** A count (`keep-jobs`): a whole number of 0 or more, or undefined. */
export function parseCount(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) && Number.isSafeInteger(Number(t)) ? Number(t) : undefined;
}

/** What a deploy is told, however it was asked (the action's inputs, the CLI's flags), with the defaults applied. */
export interface DeploySettings {
  timeoutMs: number;
  lockTimeoutMs: number;
  keepJobs: number;
  /** After a successful run, delete objects of stages gone from the DAG and unused code bundles. */
  prune: boolean;
  /** Image for every stage, instead of the project's. */
  image?: string;
  ingressClass?: string;
  /** Only these stages (config names). */
  stages?: string[];
  /** Existing Secrets the stage pods pull their images with. */
  imagePullSecrets?: string[];
}

/** The settings as written (an input's or a flag's text); unset ones get their defaults. */
export interface DeploySettingsText {
  timeout?: string | undefined;
  lockTimeout?: string | undefined;
  keepJobs?: string | undefined;
  prune?: boolean | undefined;
  image?: string | undefined;
  ingressClass?: string | undefined;
  /** Comma-separated stage names. */
  stages?: string | undefined;
  imagePullSecrets?: string[] | undefined;
}

/** A setting's text that does not parse: each shell words it as its own (`input timeout: …`, `--timeout must be …`). */
export class SettingError extends Error {
  constructor(
    /** The setting's name as both shells spell it: `timeout`, `lock-timeout`, `keep-jobs`. */
    readonly setting: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${setting}: expected ${expected}, got '${got}'`);
  }
}

/** The DeploySettings of `text`; throws SettingError for a duration or count that does not parse. */
export function parseDeploySettings(text: DeploySettingsText): DeploySettings {
  const timeout = text.timeout ?? DEFAULT_TIMEOUT;
  const timeoutMs = parseDuration(timeout);
  if (timeoutMs === undefined) throw new SettingError('timeout', DURATION_EXPECTED, timeout);
  const lockTimeout = text.lockTimeout ?? DEFAULT_LOCK_TIMEOUT;
  const lockTimeoutMs = parseDuration(lockTimeout);
  if (lockTimeoutMs === undefined) throw new SettingError('lock-timeout', DURATION_EXPECTED, lockTimeout);
  const keepJobsText = text.keepJobs ?? String(DEFAULT_KEEP_JOBS);
  const keepJobs = parseCount(keepJobsText);
  if (keepJobs === undefined) throw new SettingError('keep-jobs', COUNT_EXPECTED, keepJobsText);
  const stages = parseList(text.stages);
  return {
    timeoutMs,
    lockTimeoutMs,
    keepJobs,
    prune: text.prune ?? true,
    ...(text.image !== undefined ? { image: text.image } : {}),
    ...(text.ingressClass !== undefined ? { ingressClass: text.ingressClass } : {}),
    ...(stages !== undefined ? { stages } : {}),
    ...(text.imagePullSecrets !== undefined ? { imagePullSecrets: text.imagePullSecrets } : {}),
  };
}

/** A list as written in one input or flag (`a, b`): split at `separator`, trimmed, empty entries dropped. */
export function parseList(text: string | undefined, separator: string | RegExp = ','): string[] | undefined {
  return text
    ?.split(separator)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * A new run id; per-run Job names derive from it, so any two deploys must differ. On a CI run (GITHUB_RUN_ID): the
 * run, its attempt (re-runs) and a random part (two steps of one job deploying the same project); else base-36 time
 * and a random part, 10 characters. Either is valid in a Job name.
 */
export function newRunId(ci: { runId?: string; attempt?: string } = {}): string {
  const random = randomBytes(2).toString('hex');
  return ci.runId !== undefined ? `${ci.runId}-${ci.attempt || '1'}-${random}` : `${Date.now().toString(36).slice(-6)}${random}`;
}
