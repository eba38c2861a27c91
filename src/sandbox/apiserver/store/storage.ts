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

  /** `onRemoved` runs at the commit of a removal, before anyone hears of it (releases what the object held). */
  constructor(private readonly onRemoved: (r: ResourceType, obj: KubeObject) => void = () => {}) {
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

  /** The stored object itself (not a copy: callers clone before changing or handing it out). */
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
            l(listenerEvent(ev));
          } catch {
            // A failing subscriber must not break the write that triggered it (or the other subscribers).
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  commit(type: StoreEventType, key: ResourceKey, obj: KubeObject, old?: KubeObject): KubeObject {
    const r = this.types.get(key)!;
    this.rv++;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(this.rv);
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
 * A subscriber's own view of an event: its objects are copies of the stored ones (a subscriber may change what it
 * gets), made when it first reads them. Most subscribers look only at the event's resource and pass over the rest,
 * and copying every pod write once per subscriber was a large part of the sandbox's CPU.
 */
function listenerEvent(ev: StoreEvent): StoreEvent {
  let object: KubeObject | undefined;
  let old: KubeObject | undefined;
  return {
    type: ev.type,
    key: ev.key,
    resource: ev.resource,
    get object() {
      return (object ??= structuredClone(ev.object));
    },
    get old() {
      return ev.old && (old ??= structuredClone(ev.old));
    },
  };
}
