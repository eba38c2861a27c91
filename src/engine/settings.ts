/**
 * The deploy settings both shells offer (the action's inputs, the CLI's flags): their defaults and the parsers of the
 * ones that are not durations (engine/duration.ts), in one place, so `timeout:` and `--timeout` cannot drift apart.
 */
import { parseDuration } from './duration.js';

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
