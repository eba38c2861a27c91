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
 *
 * How a connection ended and what the loop does next are pure functions (`watchEndOf`, `nextWatchStep`); the class
 * `CollectionWatch` holds the loop's state. Waiting for a state of the objects is wait.ts.
 */
import { Watch, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import { fillKind, type KubeClient, targetOfPath, toModel } from './client.js';
import { KubeApiError, parseStatus, toKubeApiError, type KubeApiErrorFields, type KubeTarget } from './errors.js';
import { abortableSleep, backoffMs } from './retry.js';

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
  /** Watch from this version without listing first (the cache then starts empty, or as `initial`). */
  resourceVersion?: string;
  /**
   * With `resourceVersion`: the collection as it was at that version (for example none of a new Job's pods, at the
   * Job's creation), taken as the first list's answer would be: the cache starts with it, then `onSync`.
   */
  initial?: readonly KubernetesObject[];
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

/**
 * Where a watch starts: from `resourceVersion` with the collection as it was then (`initial`), or, without a
 * version, by listing (the `WatchArgs` to spread in).
 */
export function fromVersion(resourceVersion: string | undefined, initial: readonly KubernetesObject[]): Pick<WatchArgs, 'resourceVersion' | 'initial'> {
  return resourceVersion !== undefined ? { resourceVersion, initial } : {};
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

/** How one watch connection ended. */
export type WatchEnd = { kind: 'closed' } | { kind: 'timeout' } | { kind: 'expired' } | { kind: 'aborted' } | { kind: 'failed'; error: KubeApiError };

/** What one watch connection saw before it ended: events delivered, a 410 ERROR event, another ERROR event. */
export interface ConnectionState {
  events: number;
  expired: boolean;
  errorEvent?: KubeApiError;
}

/** How a connection ended, from client-node's done callback's error and what the connection saw. */
export function watchEndOf(err: unknown, seen: ConnectionState, aborted: boolean, toError: (err: unknown) => KubeApiError): WatchEnd {
  if (aborted) return { kind: 'aborted' };
  if (seen.expired || (err as { statusCode?: number } | null)?.statusCode === 410) return { kind: 'expired' };
  if (seen.errorEvent) return { kind: 'failed', error: seen.errorEvent };
  if (!err) return { kind: 'closed' };
  if ((err as { name?: string }).name === 'TimeoutError') return { kind: 'timeout' };
  return { kind: 'failed', error: toError(err) };
}

/** What the loop does after a connection ended. */
export type WatchStep =
  | { next: 'stop' }
  /** Nothing is wrong: watch again at once from the last version seen (the failure count restarts). */
  | { next: 'resume' }
  /** Back off (counting a failure), then watch again. */
  | { next: 'retry'; error: KubeApiError }
  /** List again (the version is too old); `backOff` first when the last list's version expired at once too. */
  | { next: 'relist'; backOff?: KubeApiError };

/**
 * The loop's decision after a connection `end`ed, given the `events` it delivered, how long it lasted and how many
 * watches before it expired in a row.
 */
export function nextWatchStep(end: WatchEnd, run: { events: number; elapsedMs: number; expiredInARow: number }, target: KubeTarget): WatchStep {
  const unhealthy = (serverMessage: string, extra: Partial<KubeApiErrorFields> = {}) =>
    new KubeApiError({ verb: 'watch', ...target, causes: [], retryable: true, delivery: 'yes', serverMessage, ...extra });
  switch (end.kind) {
    case 'aborted':
      return { next: 'stop' };
    case 'expired':
      // Expired again straight after a re-list: do not hammer the server with list+watch pairs.
      return run.events === 0 && run.expiredInARow > 0
        ? { next: 'relist', backOff: unhealthy('the watch expired again right after a list', { statusCode: 410, reason: 'Expired' }) }
        : { next: 'relist' };
    case 'timeout':
      // client-node's idle timeout: nothing is wrong, resume at once from the last version seen.
      return { next: 'resume' };
    case 'closed':
      // A server that closes at once, again and again, is not healthy: back off unless the watch did some work.
      return run.events > 0 || run.elapsedMs > 1000 ? { next: 'resume' } : { next: 'retry', error: unhealthy('the server closed the watch at once') };
    case 'failed':
      return { next: 'retry', error: end.error };
  }
}

/**
 * Watches a collection until `signal` aborts (then resolves). Rejects with a `KubeApiError` on failures a retry
 * cannot fix (403, 404, …) or after `maxConsecutiveFailures` failed reconnections in a row.
 */
export async function watchObjects<T extends KubernetesObject>(opts: WatchObjectsOptions<T>): Promise<void> {
  return new CollectionWatch<T>(opts).run();
}

/**
 * One `watchObjects`: the cache of the collection, the version to resume from (the last list's, event's or
 * bookmark's), and the count of failed connections in a row that its back-off grows with.
 */
class CollectionWatch<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  private readonly watch: Watch;
  private readonly logger: Logger;
  private readonly target: KubeTarget;
  private readonly maxFailures: number;
  private rv: string | undefined;
  /** The list's apiVersion and kind: watch events' objects are typed (or filled in) as the list's items. */
  private listApiVersion: string | undefined;
  private listKind: string | undefined;
  private failures = 0;
  private expiredInARow = 0;

  constructor(private readonly opts: WatchObjectsOptions<T>) {
    this.logger = opts.logger ?? opts.client.logger;
    this.target = targetOfPath(opts.path);
    this.watch = new Watch(opts.client.connections.pooledConfig());
    if (opts.idleTimeoutMs !== undefined) (this.watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = opts.idleTimeoutMs;
    this.maxFailures = opts.maxConsecutiveFailures ?? 10;
    this.rv = opts.resourceVersion;
  }

  async run(): Promise<void> {
    const { path, signal } = this.opts;
    try {
      if (!this.rv) await this.relist();
      else if (this.opts.initial) this.seed(this.opts.initial as readonly T[]);
      for (;;) {
        if (signal.aborted) return;
        const started = Date.now();
        const { end, events } = await this.watchOnce();
        if (end.kind !== 'expired') this.expiredInARow = 0;
        if (events > 0) this.failures = 0;
        const step = nextWatchStep(end, { events, elapsedMs: Date.now() - started, expiredInARow: this.expiredInARow }, this.target);
        switch (step.next) {
          case 'stop':
            return;
          case 'resume':
            if (end.kind === 'timeout') this.logger.debug(`Watch of ${path} idle for too long (client timeout); resuming from resourceVersion ${this.rv}`);
            this.failures = 0;
            break;
          case 'retry':
            await this.backoff(step.error);
            break;
          case 'relist':
            this.logger.debug(`Watch of ${path} expired at resourceVersion ${this.rv}; listing again`);
            if (step.backOff) await this.backoff(step.backOff);
            this.expiredInARow++;
            if (!(await this.relistUntilDone())) return;
            break;
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
  }

  private emit(type: WatchEventType, object: T, synthetic: boolean): void {
    this.opts.onEvent?.({ type, object, synthetic }, this.cache);
  }

  /** Lists, replaces the cache and emits the difference as synthetic events. */
  private async relist(): Promise<void> {
    const { client, path, signal } = this.opts;
    const list = await client.listPath<T>(path, { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, signal, raw: this.opts.raw });
    this.listApiVersion = list.apiVersion;
    this.listKind = list.kind;
    const fresh = new Map(list.items.map((o) => [keyOf(path, o), o]));
    for (const [k, old] of [...this.cache]) {
      if (!fresh.has(k)) {
        this.cache.delete(k);
        this.emit('DELETED', old, true);
      }
    }
    for (const [k, o] of fresh) {
      const old = this.cache.get(k);
      if (old && rvOf(old) === rvOf(o)) continue;
      this.cache.set(k, o);
      this.emit(old ? 'MODIFIED' : 'ADDED', o, true);
    }
    this.rv = list.resourceVersion;
    this.opts.onSync?.(this.cache);
  }

  /** The collection as known at `rv` without a list (`initial`): cached and emitted as a list's would be. */
  private seed(objects: readonly T[]): void {
    for (const o of objects) {
      this.cache.set(keyOf(this.opts.path, o), o);
      this.emit('ADDED', o, true);
    }
    this.opts.onSync?.(this.cache);
  }

  /** Lists again, backing off between failures; false when aborted meanwhile. */
  private async relistUntilDone(): Promise<boolean> {
    for (;;) {
      try {
        await this.relist();
        return true;
      } catch (e) {
        if (this.opts.signal.aborted) return false;
        await this.backoff(toKubeApiError(e, { verb: 'list', ...this.target, server: this.opts.client.server }));
      }
    }
  }

  private async backoff(err: KubeApiError): Promise<void> {
    this.failures++;
    if (!err.retryable || this.failures >= this.maxFailures) throw err;
    const delay = backoffMs(this.failures, { ...this.opts.backoff, retryAfterSeconds: err.retryAfterSeconds });
    this.logger.debug(`Re-watching ${this.opts.path} in ${delay} ms (failure ${this.failures}/${this.maxFailures}): ${err.message}`);
    await abortableSleep(delay, this.opts.signal);
  }

  /** One watch connection, from `rv`, until it ends. */
  private async watchOnce(): Promise<{ end: WatchEnd; events: number }> {
    const { client, path, signal } = this.opts;
    const seen: ConnectionState = { events: 0, expired: false };
    let settle!: (end: WatchEnd) => void;
    const ended = new Promise<WatchEnd>((resolve) => (settle = resolve));
    const onAbort = () => settle({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    const toError = (err: unknown) => toKubeApiError(err, { verb: 'watch', ...this.target, server: client.server });
    client.countRequest('watch');
    this.logger.debug(`WATCH ${path} from resourceVersion ${this.rv ?? '(none)'}`);
    // Not awaited: watch() resolves only once the response headers arrive, and an abort must not wait for that.
    let finished = false;
    let controller: AbortController | undefined;
    this.watch
      .watch(
        path,
        this.query(),
        (type: string, obj: unknown) => {
          if (!finished && !signal.aborted) this.receive(type, obj, seen, toError);
        },
        (err: unknown) => settle(watchEndOf(err, seen, signal.aborted, toError)),
      )
      .then(
        (c) => {
          controller = c;
          if (finished) c.abort();
        },
        // watch() rejects only for kubeconfig problems (no cluster, HTTP without insecure-skip-tls-verify, exec plugin).
        (err: unknown) => settle({ kind: 'failed', error: toError(err) }),
      );
    const end = await ended;
    finished = true;
    signal.removeEventListener('abort', onAbort);
    controller?.abort();
    return { end, events: seen.events };
  }

  private query(): Record<string, string | boolean> {
    const query: Record<string, string | boolean> = { allowWatchBookmarks: true };
    if (this.rv) query.resourceVersion = this.rv;
    if (this.opts.labelSelector) query.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector) query.fieldSelector = this.opts.fieldSelector;
    return query;
  }

  /** One line of the watch: an ERROR (noted in `seen`), a BOOKMARK (its version), or a change into the cache. */
  private receive(type: string, obj: unknown, seen: ConnectionState, toError: (err: unknown) => KubeApiError): void {
    if (type === 'ERROR') {
      const status = parseStatus(obj);
      if (status?.code === 410) seen.expired = true;
      else seen.errorEvent = toError(status ?? obj);
      return;
    }
    const newRV = rvOf(obj);
    if (type === 'BOOKMARK') {
      if (newRV) this.rv = newRV;
      return;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
    seen.events++;
    const o = this.opts.raw ? fillKind<T>(obj, this.listApiVersion, this.listKind) : toModel<T>(obj, this.listApiVersion, this.listKind);
    const k = keyOf(this.opts.path, o);
    if (newRV) this.rv = newRV;
    if (type === 'DELETED') {
      this.cache.delete(k);
      this.emit('DELETED', o, false);
      return;
    }
    const old = this.cache.get(k);
    // Never hand the consumer the same version twice.
    if (old && rvOf(old) === newRV) return;
    this.cache.set(k, o);
    this.emit(old ? 'MODIFIED' : 'ADDED', o, false);
  }
}
