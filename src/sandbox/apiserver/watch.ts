/**
 * The watch hub: a history ring buffer of committed changes (like the cacher's watch cache,
 * AS pkg/storage/cacher/watch_cache.go) and fan-out to watchers with per-watcher selector evaluation on the old and
 * new state (AS pkg/storage/cacher/cache_watcher.go convertToWatchEvent: leaving a selector = DELETED carrying the
 * previous object at the event's resourceVersion, entering it = ADDED).
 */
import type { ClusterStore, KubeObject, ResourceKey, ResourceType, StoreEvent } from '../types.js';
import { expired } from '../machinery/errors.js';
import { keyOf, RESOURCE_TYPES } from './resources.js';
import { type ObjectFilter, filterMatches } from './selectors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface HubEvent {
  rv: number;
  ev: StoreEvent;
}

export interface WatchRequest {
  resource: ResourceType;
  /** Only objects of this namespace (undefined: all). */
  namespace?: string;
  filter: ObjectFilter;
  /** undefined or 0: synthetic ADDED for the current state first; N: every change after N (410 when N is compacted). */
  resourceVersion?: number;
  /** Send the current state as ADDED, then a BOOKMARK annotated `k8s.io/initial-events-end` (WatchList). */
  sendInitialEvents?: boolean;
}

export interface Watcher {
  stop(): void;
}

export interface WatchHubOptions {
  /** How many change events the history keeps (default 10000). */
  historySize?: number;
}

function currentRV(store: ClusterStore): number {
  const s = store as { resourceVersion?: () => string };
  if (typeof s.resourceVersion === 'function') return Number(s.resourceVersion());
  return Number(store.list('namespaces', undefined).resourceVersion);
}

export class WatchHub {
  private readonly history: HubEvent[] = [];
  private readonly size: number;
  /** Every change with rv > compactedRV is in the history. */
  private compactedRV: number;
  private readonly watchers = new Set<{ key: ResourceKey; deliver: (e: HubEvent) => void }>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ClusterStore,
    opts: WatchHubOptions = {},
  ) {
    this.size = Math.max(1, opts.historySize ?? 10000);
    // The history starts where a fresh etcd's does: every object the store already holds, as added at its
    // resourceVersion (an earlier change of one is not kept). So a watch from any resourceVersion of this server's
    // life resumes, as upstream's does on a fresh cluster, instead of meeting 410 for what predates the hub.
    const seed: HubEvent[] = RESOURCE_TYPES.flatMap((resource) =>
      store.view(keyOf(resource), undefined).map((object) => ({ rv: Number(object.metadata.resourceVersion), ev: { type: 'ADDED' as const, key: keyOf(resource), resource, object } })),
    );
    seed.sort((a, b) => a.rv - b.rv);
    this.compactedRV = seed.length > this.size ? seed[seed.length - this.size - 1].rv : 0;
    this.history.push(...seed.slice(-this.size));
    this.unsubscribe = store.subscribe((ev) => this.onEvent(ev));
  }

  /** The newest resourceVersion the hub has seen (or the store's, when newer). */
  get resourceVersion(): number {
    return Math.max(currentRV(this.store), this.history.at(-1)?.rv ?? 0);
  }

  /** Oldest resourceVersion a watch may resume from. */
  get oldestResumable(): number {
    return this.compactedRV;
  }

  /** Test hook: forget the history (as etcd compaction does); watches from older versions then get 410. */
  compact(): void {
    const rv = this.resourceVersion;
    this.history.length = 0;
    this.compactedRV = rv;
  }

  close(): void {
    this.unsubscribe();
    this.watchers.clear();
  }

  private onEvent(ev: StoreEvent): void {
    const e: HubEvent = { rv: Number(ev.object.metadata.resourceVersion), ev };
    this.history.push(e);
    while (this.history.length > this.size) this.compactedRV = this.history.shift()!.rv;
    for (const w of [...this.watchers]) if (w.key === ev.key) w.deliver(e);
  }

  /**
   * Starts a watch. Throws `410 Expired` (`too old resource version: N (M)`) when N is older than the history —
   * the HTTP layer turns that into an ERROR event, as the cacher does.
   */
  watch(req: WatchRequest, send: (type: WatchEventType, obj: KubeObject) => void, initialEventsEnd?: (rv: number) => void): Watcher {
    const r = req.resource;
    const key = keyOf(r);
    const inScope = (o: KubeObject) => (!req.namespace || o.metadata.namespace === req.namespace) && filterMatches(req.filter, r, o);
    const from = req.resourceVersion ?? 0;
    let lastRV: number;
    if (from === 0 || req.sendInitialEvents) {
      // Read, not changed: sent as JSON.
      for (const o of this.store.view(key, r.namespaced ? req.namespace : undefined)) if (inScope(o)) send('ADDED', o);
      lastRV = currentRV(this.store);
      if (req.sendInitialEvents) initialEventsEnd?.(lastRV);
    } else {
      if (from < this.compactedRV) throw expired(`too old resource version: ${from} (${this.compactedRV})`);
      lastRV = from;
      for (const e of this.history) if (e.rv > from && e.ev.key === key) this.deliverTo(e, inScope, send);
      lastRV = Math.max(lastRV, this.history.at(-1)?.rv ?? lastRV);
    }
    const w = {
      key,
      deliver: (e: HubEvent) => {
        if (e.rv <= lastRV) return;
        this.deliverTo(e, inScope, send);
      },
    };
    this.watchers.add(w);
    return { stop: () => this.watchers.delete(w) };
  }

  private deliverTo(e: HubEvent, inScope: (o: KubeObject) => boolean, send: (type: WatchEventType, obj: KubeObject) => void): void {
    const { ev } = e;
    if (ev.type === 'ADDED') {
      if (inScope(ev.object)) send('ADDED', ev.object);
      return;
    }
    if (ev.type === 'DELETED') {
      if (inScope(ev.object)) send('DELETED', ev.object);
      return;
    }
    const now = inScope(ev.object);
    const before = ev.old ? inScope(ev.old) : false;
    if (now && before) send('MODIFIED', ev.object);
    else if (now) send('ADDED', ev.object);
    else if (before) {
      const prev = structuredClone(ev.old!);
      prev.metadata.resourceVersion = ev.object.metadata.resourceVersion;
      send('DELETED', prev);
    }
  }
}
