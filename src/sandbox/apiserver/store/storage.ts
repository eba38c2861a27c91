/**
 * The storage under the registry (AS pkg/storage, etcd's role): every object by resource and `namespace/name`, one
 * global resourceVersion counter, and delivery of each committed change to subscribers after the commit, in commit
 * order. Knows nothing of kinds; the write paths (create.ts, update.ts, patch.ts, delete.ts) and the per-kind
 * strategies (../strategy/) decide what gets committed.
 */
import type { KubeObject, ResourceKey, ResourceType, StoreEvent, StoreEventType } from '../../types.js';
import { StatusError } from '../../machinery/errors.js';
import { RESOURCE_TYPES, keyOf } from '../resources.js';

/** metav1.Time: RFC3339 with second precision. */
export function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const gr = (r: ResourceType) => ({ group: r.group, resource: r.resource });

export const itemKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

export const scopeNs = (r: ResourceType, ns: string | undefined): string | undefined => (r.namespaced ? ns : undefined);

export class Storage {
  readonly types = new Map<ResourceKey, ResourceType>(RESOURCE_TYPES.map((r) => [keyOf(r), r]));
  readonly buckets = new Map<ResourceKey, Map<string, KubeObject>>();
  private rv = 0;
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private readonly queue: StoreEvent[] = [];
  private draining = false;

  /**
   * `onRemoved` runs at the commit of a removal, before anyone hears of it (releases what the object held).
   * `onSubscriberError` hears of a subscriber that threw: the write and the other subscribers go on regardless.
   */
  constructor(
    private readonly onRemoved: (r: ResourceType, obj: KubeObject) => void = () => {},
    private readonly onSubscriberError: (error: unknown, event: StoreEvent) => void = () => {},
  ) {
    for (const k of this.types.keys()) this.buckets.set(k, new Map());
  }

  /** The current global resourceVersion. */
  get resourceVersion(): number {
    return this.rv;
  }

  resourceFor(key: ResourceKey): ResourceType {
    const r = this.types.get(key);
    if (!r) throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${key})`, { kind: key });
    return r;
  }

  /** The stored object itself, frozen (not a copy: callers clone before changing it). */
  raw(key: ResourceKey, ns: string | undefined, name: string): KubeObject | undefined {
    const r = this.resourceFor(key);
    return this.buckets.get(key)!.get(itemKey(scopeNs(r, ns), name));
  }

  has(key: ResourceKey, ns: string | undefined, name: string): boolean {
    return this.buckets.get(key)!.has(itemKey(ns, name));
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length) {
        const ev = this.queue.shift()!;
        for (const l of [...this.listeners]) {
          try {
            l(ev);
          } catch (error) {
            // A failing subscriber must not break the write that triggered it (or the other subscribers), but it is a
            // bug (one that changed a frozen event object throws a TypeError here): said, not swallowed.
            this.onSubscriberError(error, ev);
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Stores `obj` as it is, frozen: it is the write path's own working copy (create, update, patch and delete each
   * build one), handed over, so no copy is made here. Answers a copy, which the caller may change.
   */
  commit(type: StoreEventType, key: ResourceKey, obj: KubeObject, old?: KubeObject): KubeObject {
    const r = this.types.get(key)!;
    this.rv++;
    const stored = obj;
    stored.metadata.resourceVersion = String(this.rv);
    deepFreeze(stored);
    const k = itemKey(stored.metadata.namespace, stored.metadata.name!);
    if (type === 'DELETED') {
      this.buckets.get(key)!.delete(k);
      this.onRemoved(r, stored);
    } else {
      this.buckets.get(key)!.set(k, stored);
    }
    this.queue.push({ type, key, resource: r, object: stored, old });
    this.drain();
    return structuredClone(stored);
  }
}

/**
 * Freezes an object and everything in it. Stored objects are handed to readers without copies (the registry's `peek`
 * and `view`, and every subscriber's events), so a reader that changed one would change the store: with this it
 * throws instead (ES modules are strict). Copying each write once per subscriber, and each object of a namespace at
 * every controller sync, was most of the sandbox's CPU during a deploy.
 */
function deepFreeze(o: unknown): void {
  if (o === null || typeof o !== 'object' || Object.isFrozen(o)) return;
  Object.freeze(o);
  for (const v of Object.values(o)) deepFreeze(v);
}
