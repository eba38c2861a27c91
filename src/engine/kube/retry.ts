/**
 * Retries of transient Kubernetes API failures: 5xx (500, 502, 503, 504), 429 (honouring Retry-After) and
 * connection resets/timeouts, with capped exponential back-off and jitter. Other 4xx are never retried.
 *
 * A request that is not idempotent (create) is retried only when it surely never reached the server (connection
 * refused, DNS, TLS handshake) or was turned away before being processed (429); callers that can make a create
 * idempotent themselves (on AlreadyExists after a retry, read the object back) pass `idempotent: true` and handle it.
 */
import type { Logger } from '../logger.js';
import { KubeApiError, toKubeApiError, type FailureContext, type KubeVerb } from './errors.js';

export interface RetryOptions {
  /** What is being done (verb and object), for messages and for translating raw failures. */
  context?: FailureContext;
  /** Shorthand when there is no object to name: `context` = `{ verb, kind: 'object' }`. */
  verb?: KubeVerb;
  /** The call may be repeated safely (get, list, apply, delete; create only when the caller handles AlreadyExists). */
  idempotent: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  /** Attempts in all, including the first (default 5). */
  maxAttempts?: number;
  /** First back-off in ms (default 250); doubles per attempt. */
  baseMs?: number;
  /** Back-off cap in ms (default 10000). A Retry-After above the cap is still honoured, up to 60 s. */
  capMs?: number;
  /** Random source in [0, 1) for jitter (tests). */
  random?: () => number;
  /** Called before each retry (counters, tests). */
  onRetry?: (error: KubeApiError, attempt: number, delayMs: number) => void;
}

const MAX_RETRY_AFTER_MS = 60_000;

/** Whether `err` may be retried under `idempotent`. */
export function shouldRetry(err: KubeApiError, idempotent: boolean): boolean {
  if (!err.retryable) return false;
  if (idempotent) return true;
  // The request surely never reached the server, or the server turned it away unprocessed.
  return err.delivery === 'no' || err.statusCode === 429;
}

/** Back-off before retry number `attempt` (1 = first retry): equal jitter on base·2^(attempt-1), capped. */
export function backoffMs(attempt: number, opts: { baseMs?: number; capMs?: number; random?: () => number; retryAfterSeconds?: number }): number {
  const base = opts.baseMs ?? 250;
  const cap = opts.capMs ?? 10_000;
  const exp = Math.min(cap, base * 2 ** (attempt - 1));
  const jittered = exp / 2 + (opts.random ?? Math.random)() * (exp / 2);
  if (opts.retryAfterSeconds !== undefined && opts.retryAfterSeconds > 0) {
    return Math.min(MAX_RETRY_AFTER_MS, Math.max(opts.retryAfterSeconds * 1000, jittered));
  }
  return Math.round(jittered);
}

/** Sleeps `ms`, rejecting with the signal's reason when it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The reason an aborted signal carries (a DOMException AbortError/TimeoutError unless the caller gave one). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * Runs `fn` (given the attempt number, from 1) until it succeeds, fails for good, runs out of attempts or `signal`
 * aborts. Failures are translated into `KubeApiError` with `context`; the last one is thrown. An abort rejects
 * with the signal's reason.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const max = Math.max(1, opts.maxAttempts ?? 5);
  const context: FailureContext = opts.context ?? { verb: opts.verb ?? 'get', kind: 'object' };
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    try {
      return await fn(attempt);
    } catch (raw) {
      if (opts.signal?.aborted) throw abortReason(opts.signal);
      const err = toKubeApiError(raw, context);
      if (attempt >= max || !shouldRetry(err, opts.idempotent)) throw err;
      const delay = backoffMs(attempt, { ...opts, retryAfterSeconds: err.retryAfterSeconds });
      opts.logger?.debug(`Retrying ${context.verb} (attempt ${attempt + 1}/${max}) in ${delay} ms after: ${err.message}`);
      opts.onRetry?.(err, attempt, delay);
      await abortableSleep(delay, opts.signal);
    }
  }
}
