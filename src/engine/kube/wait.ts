/**
 * Waiting on top of watching (watch.ts): until the watched objects satisfy a predicate, with a timeout and a signal.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { abortReason } from './retry.js';
import { watchObjects, type WatchArgs } from './watch.js';

export interface WaitOptions {
  /** Reject with a timeout error after this long (default: no timeout). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** What is awaited, for the timeout message ("Job 'stage-1' to complete"). */
  description?: string;
}

/** `waitFor` ran out of time; `last` is the state seen last. */
export class WaitTimeoutError<T = unknown> extends Error {
  constructor(
    message: string,
    readonly last: ReadonlyMap<string, T>,
  ) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Watches until `predicate` returns something other than `undefined`/`false`/`null` for the current objects
 * (checked after every list and after every live event), and resolves with that value. Rejects on timeout
 * (`WaitTimeoutError`), with the signal's reason on abort, and with the watch's error when it fails for good.
 */
export async function waitFor<T extends KubernetesObject, R>(
  args: WatchArgs,
  predicate: (objects: ReadonlyMap<string, T>) => R | undefined | false | null,
  opts: WaitOptions = {},
): Promise<R> {
  if (opts.signal?.aborted) throw abortReason(opts.signal);
  const inner = new AbortController();
  let last: ReadonlyMap<string, T> = new Map();
  return new Promise<R>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      inner.abort();
      fn();
    };
    const onAbort = () => finish(() => reject(abortReason(opts.signal!)));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(
            () =>
              finish(() =>
                reject(new WaitTimeoutError(`Timed out after ${Math.round(opts.timeoutMs! / 1000)} s waiting for ${opts.description ?? `objects at ${args.path}`}`, new Map(last))),
              ),
            opts.timeoutMs,
          )
        : undefined;
    const check = (objects: ReadonlyMap<string, T>) => {
      if (done) return;
      last = objects;
      let r: R | undefined | false | null;
      try {
        r = predicate(objects);
      } catch (e) {
        finish(() => reject(e));
        return;
      }
      if (r !== undefined && r !== false && r !== null) {
        const value = r;
        finish(() => resolve(value));
      }
    };
    // A re-list's synthetic events pass through a half-updated cache: judge its state once, after the list.
    watchObjects<T>({ ...args, signal: inner.signal, onSync: check, onEvent: (e, objects) => e.synthetic || check(objects) }).then(
      () => finish(() => reject(new Error(`watch of ${args.path} ended`))),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

/**
 * Waits for one object: `predicate` gets it (or `undefined` while it does not exist). Watches with a
 * `metadata.name` field selector.
 */
export async function waitForObject<T extends KubernetesObject, R>(
  args: WatchArgs & { name: string },
  predicate: (object: T | undefined) => R | undefined | false | null,
  opts: WaitOptions = {},
): Promise<R> {
  const { name, ...rest } = args;
  const fieldSelector = [`metadata.name=${name}`, args.fieldSelector].filter(Boolean).join(',');
  return waitFor<T, R>({ ...rest, fieldSelector }, (objects) => predicate(objects.get(name)), opts);
}
