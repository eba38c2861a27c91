/**
 * Watching: the engine's only way to wait for the cluster (Job complete/failed, rollout done, pods gone).
 *
 * `watchObjects` lists a collection (unless given a resourceVersion), then watches from the list's version with
 * bookmarks, keeps a cache of the objects by name and re-establishes the watch from the last version seen whenever
 * it ends: client-node 2.x's `Watch` aborts a connection with a `TimeoutError` after 30 s without data, the server
 * closes watches at its timeout (or, in the sandbox, on purpose), connections break. A 410 Gone/Expired (HTTP
 * status or ERROR event) means the version is too old: it re-lists and emits synthetic events for the difference,
 * so the consumer's view stays consistent. It never polls on a timer.
 *
 * Why not client-node's `makeInformer`/`ListWatch` (2.0.1)? It handles 410 and TimeoutError, but any other watch
 * failure (a 500 or 429 on the watch request, ECONNRESET, a failed re-list) stops it for good after an `error`
 * callback; it sends no `allowWatchBookmarks`, so a quiet collection costs a full reconnect every 30 s; it takes no
 * AbortSignal; re-list deletions and updates are not told apart from live ones; and it cannot start from a known
 * resourceVersion. Writing the loop here is shorter than patching around those.
 */
import { Watch, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import { fillKind, type KubeClient, targetOfPath, toModel } from './client.js';
import { KubeApiError, parseStatus, toKubeApiError } from './errors.js';
import { abortReason, abortableSleep, backoffMs } from './retry.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
  /** Made up after a re-list (410), not sent by the server. */
  synthetic: boolean;
}

export interface WatchArgs {
  client: KubeClient;
  /** Collection path, e.g. `/apis/batch/v1/namespaces/ns/jobs`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Watch from this version without listing first (the cache then starts empty). */
  resourceVersion?: string;
  logger?: Logger;
  /** Consecutive failed (re)connections tolerated before giving up (default 10). */
  maxConsecutiveFailures?: number;
  /** Back-off of reconnections after failures (defaults 250 ms doubling to 10 s). */
  backoff?: { baseMs?: number; capMs?: number };
  /**
   * How long client-node's `Watch` waits without data before ending a watch with `TimeoutError` (its own default,
   * 30 s, when unset). Set through a private field of client-node 2.0.1's `Watch`; meant for tests.
   */
  idleTimeoutMs?: number;
  /** Objects as JSON from the wire instead of client-node's typed models (the sandbox node keeps unknown fields and string times). */
  raw?: boolean;
}

export interface WatchObjectsOptions<T> extends WatchArgs {
  signal: AbortSignal;
  /** Each change, in order, with the cache already updated. */
  onEvent?: (event: WatchEvent<T>, objects: ReadonlyMap<string, T>) => void;
  /** After every (re-)list, once its synthetic events have been emitted. */
  onSync?: (objects: ReadonlyMap<string, T>) => void;
}

/** Cache key: the name, or `namespace/name` when watching a namespaced kind across namespaces. */
function keyOf(path: string, o: KubernetesObject): string {
  const name = o.metadata?.name ?? '';
  const ns = o.metadata?.namespace;
  return ns && !path.includes('/namespaces/') ? `${ns}/${name}` : name;
}

function rvOf(o: unknown): string | undefined {
  return (o as KubernetesObject | undefined)?.metadata?.resourceVersion ?? undefined;
}

/** Internal: how one watch connection ended. */
type WatchEnd = { kind: 'closed' } | { kind: 'timeout' } | { kind: 'expired' } | { kind: 'aborted' } | { kind: 'failed'; error: KubeApiError };

/**
 * Watches a collection until `signal` aborts (then resolves). Rejects with a `KubeApiError` on failures a retry
 * cannot fix (403, 404, …) or after `maxConsecutiveFailures` failed reconnections in a row.
 */
export async function watchObjects<T extends KubernetesObject>(opts: WatchObjectsOptions<T>): Promise<void> {
  const { client, path, signal } = opts;
  const logger = opts.logger ?? client.logger;
  const target = targetOfPath(path);
  const cache = new Map<string, T>();
  const watch = new Watch(client.kc);
  if (opts.idleTimeoutMs !== undefined) (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = opts.idleTimeoutMs;
  const maxFailures = opts.maxConsecutiveFailures ?? 10;
  let rv = opts.resourceVersion;
  let listApiVersion: string | undefined;
  let listKind: string | undefined;
  let failures = 0;
  let expiredInARow = 0;

  const emit = (type: WatchEventType, object: T, synthetic: boolean) => opts.onEvent?.({ type, object, synthetic }, cache);

  /** Lists, replaces the cache and emits the difference as synthetic events. */
  const relist = async () => {
    const list = await client.listPath<T>(path, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, signal, raw: opts.raw });
    listApiVersion = list.apiVersion;
    listKind = list.kind;
    const fresh = new Map(list.items.map((o) => [keyOf(path, o), o]));
    for (const [k, old] of [...cache]) {
      if (!fresh.has(k)) {
        cache.delete(k);
        emit('DELETED', old, true);
      }
    }
    for (const [k, o] of fresh) {
      const old = cache.get(k);
      if (old && rvOf(old) === rvOf(o)) continue;
      cache.set(k, o);
      emit(old ? 'MODIFIED' : 'ADDED', o, true);
    }
    rv = list.resourceVersion;
    opts.onSync?.(cache);
  };

  /** One watch connection, from `rv`, until it ends. */
  const watchOnce = async (): Promise<{ end: WatchEnd; events: number }> => {
    let events = 0;
    let expired = false;
    let errorEvent: KubeApiError | undefined;
    let settle!: (end: WatchEnd) => void;
    const ended = new Promise<WatchEnd>((resolve) => (settle = resolve));
    const onAbort = () => settle({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    const query: Record<string, string | boolean> = { allowWatchBookmarks: true };
    if (rv) query.resourceVersion = rv;
    if (opts.labelSelector) query.labelSelector = opts.labelSelector;
    if (opts.fieldSelector) query.fieldSelector = opts.fieldSelector;
    client.countRequest('watch');
    logger.debug(`WATCH ${path} from resourceVersion ${rv ?? '(none)'}`);
    // Not awaited: watch() resolves only once the response headers arrive, and an abort must not wait for that.
    let finished = false;
    let controller: AbortController | undefined;
    watch
      .watch(
        path,
        query,
        (type: string, obj: unknown) => {
          if (finished || signal.aborted) return;
          if (type === 'ERROR') {
            const status = parseStatus(obj);
            if (status?.code === 410) expired = true;
            else errorEvent = toKubeApiError(status ?? obj, { verb: 'watch', ...target, server: client.server });
            return;
          }
          const newRV = rvOf(obj);
          if (type === 'BOOKMARK') {
            if (newRV) rv = newRV;
            return;
          }
          if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
          events++;
          const o = opts.raw ? fillKind<T>(obj, listApiVersion, listKind) : toModel<T>(obj, listApiVersion, listKind);
          const k = keyOf(path, o);
          if (newRV) rv = newRV;
          if (type === 'DELETED') {
            cache.delete(k);
            emit('DELETED', o, false);
            return;
          }
          const old = cache.get(k);
          // Never hand the consumer the same version twice.
          if (old && rvOf(old) === newRV) return;
          cache.set(k, o);
          emit(old ? 'MODIFIED' : 'ADDED', o, false);
        },
        (err: unknown) => {
          if (signal.aborted) settle({ kind: 'aborted' });
          else if (expired || (err as { statusCode?: number } | null)?.statusCode === 410) settle({ kind: 'expired' });
          else if (errorEvent) settle({ kind: 'failed', error: errorEvent });
          else if (!err) settle({ kind: 'closed' });
          else if ((err as { name?: string }).name === 'TimeoutError') settle({ kind: 'timeout' });
          else settle({ kind: 'failed', error: toKubeApiError(err, { verb: 'watch', ...target, server: client.server }) });
        },
      )
      .then(
        (c) => {
          controller = c;
          if (finished) c.abort();
        },
        // watch() rejects only for kubeconfig problems (no cluster, HTTP without insecure-skip-tls-verify, exec plugin).
        (err: unknown) => settle({ kind: 'failed', error: toKubeApiError(err, { verb: 'watch', ...target, server: client.server }) }),
      );
    const end = await ended;
    finished = true;
    signal.removeEventListener('abort', onAbort);
    controller?.abort();
    return { end, events };
  };

  const backoff = async (err: KubeApiError) => {
    failures++;
    if (!err.retryable || failures >= maxFailures) throw err;
    const delay = backoffMs(failures, { ...opts.backoff, retryAfterSeconds: err.retryAfterSeconds });
    logger.debug(`Re-watching ${path} in ${delay} ms (failure ${failures}/${maxFailures}): ${err.message}`);
    await abortableSleep(delay, signal);
  };

  try {
    if (!rv) await relist();
    for (;;) {
      if (signal.aborted) return;
      const started = Date.now();
      const { end, events } = await watchOnce();
      if (end.kind !== 'expired') expiredInARow = 0;
      if (events > 0) failures = 0;
      switch (end.kind) {
        case 'aborted':
          return;
        case 'expired':
          logger.debug(`Watch of ${path} expired at resourceVersion ${rv}; listing again`);
          // Expired again straight after a re-list: do not hammer the server with list+watch pairs.
          if (events === 0 && expiredInARow > 0) await backoff(new KubeApiError({ verb: 'watch', ...target, statusCode: 410, reason: 'Expired', causes: [], retryable: true, delivery: 'yes', serverMessage: 'the watch expired again right after a list' }));
          expiredInARow++;
          for (;;) {
            try {
              await relist();
              break;
            } catch (e) {
              if (signal.aborted) return;
              await backoff(toKubeApiError(e, { verb: 'list', ...target, server: client.server }));
            }
          }
          break;
        case 'timeout':
          // client-node's idle timeout: nothing is wrong, resume at once from the last version seen.
          logger.debug(`Watch of ${path} idle for too long (client timeout); resuming from resourceVersion ${rv}`);
          failures = 0;
          break;
        case 'closed':
          // A server that closes at once, again and again, is not healthy: back off unless the watch did some work.
          if (events > 0 || Date.now() - started > 1000) failures = 0;
          else await backoff(new KubeApiError({ verb: 'watch', ...target, causes: [], retryable: true, delivery: 'yes', serverMessage: 'the server closed the watch at once' }));
          break;
        case 'failed':
          await backoff(end.error);
          break;
      }
    }
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  }
}

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
