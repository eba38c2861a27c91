/**
 * The namespace controller (K pkg/controller/namespace, deletion/namespaced_resources_deleter.go): empties a
 * Terminating namespace (every object in it deleted in the background; pods gracefully, so the kubelet still
 * confirms), reports the NamespaceContentRemaining / NamespaceFinalizersRemaining conditions while content remains,
 * then removes the `kubernetes` finalizer through `namespaces/finalize` and deletes the namespace. DELETE making a
 * namespace Terminating, and refusing creates in it, are the API server's (its namespace registry and admission).
 */
import { FINALIZER_KUBERNETES } from '../machinery/finalizers.js';
import { QueueController, type ControllerBaseOptions } from '../machinery/controller.js';
import { keyOf } from '../machinery/resource-key.js';
import type { ClusterStore, StoreEvent } from '../types.js';
import { CONTROLLER_MANAGER, safe } from './lifecycle.js';
import { deepEqual } from '../machinery/objects.js';
import { nowRFC3339 } from '../machinery/time.js';

/** Keyed by namespace name, as upstream's: a Terminating namespace is queued whenever it or its content changes. */
export class NamespaceController extends QueueController {
  /** Names of namespaces being deleted. */
  private readonly terminating = new Set<string>();

  constructor(store: ClusterStore, opts: ControllerBaseOptions = {}) {
    super(store, 'namespace-controller', opts);
  }

  protected initialKeys(): string[] {
    for (const ns of this.store.view('namespaces', undefined)) if (ns.metadata.deletionTimestamp) this.terminating.add(ns.metadata.name!);
    return [...this.terminating];
  }

  protected handle(ev: StoreEvent): void {
    if (ev.key === 'namespaces') {
      const name = ev.object.metadata.name!;
      if (ev.type !== 'DELETED' && ev.object.metadata.deletionTimestamp) this.terminating.add(name);
      else this.terminating.delete(name);
      if (this.terminating.has(name)) this.queue.add(name);
      return;
    }
    // Content gone or changed (a finalizer removed, a pod confirmed deleted): the namespace may be empty now.
    const ns = ev.object.metadata.namespace;
    if (ns && this.terminating.has(ns)) this.queue.add(ns);
  }

  protected sync(ns: string): void {
    if (this.store.peek('namespaces', undefined, ns)?.metadata.deletionTimestamp) this.syncNamespace(ns);
  }

  private namespacedKeys(): string[] {
    return this.store.resources.filter((r) => r.namespaced).map((r) => keyOf(r));
  }

  /** Empty a Terminating namespace, then finalize and remove it. */
  private syncNamespace(ns: string): void {
    let remaining = 0;
    for (const key of this.namespacedKeys()) {
      for (const o of this.store.view(key, ns)) {
        remaining++;
        if (!o.metadata.deletionTimestamp) safe(() => this.store.delete(key, ns, o.metadata.name!, { propagationPolicy: 'Background' }));
      }
    }
    if (remaining > 0 && this.reportRemaining(ns)) return;
    safe(() => {
      const cur = this.store.peek('namespaces', undefined, ns);
      if (!cur) return;
      if ((cur.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) {
        this.store.update('namespaces', undefined, ns, { ...cur, spec: { ...cur.spec, finalizers: cur.spec.finalizers.filter((f: string) => f !== FINALIZER_KUBERNETES) } }, { ...CONTROLLER_MANAGER, subresource: 'finalize' });
      }
      const after = this.store.peek('namespaces', undefined, ns);
      if (after && !(after.spec?.finalizers ?? []).length && !(after.metadata.finalizers ?? []).length) this.store.delete('namespaces', undefined, ns);
    });
  }

  /** Counts what is left after this pass's deletions; reports it and answers true while anything is. */
  private reportRemaining(ns: string): boolean {
    const counts = new Map<string, number>();
    const finalizers = new Map<string, number>();
    for (const r of this.store.resources) {
      if (!r.namespaced) continue;
      for (const o of this.store.view(keyOf(r), ns)) {
        const gr = `${r.resource}.${r.group}`;
        counts.set(gr, (counts.get(gr) ?? 0) + 1);
        for (const f of o.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
      }
    }
    if (!counts.size) return false;
    safe(() => this.reportNamespaceConditions(ns, counts, finalizers));
    return true;
  }

  /** The namespace controller's status conditions while content remains (K pkg/controller/namespace/deletion). */
  private reportNamespaceConditions(ns: string, counts: Map<string, number>, finalizers: Map<string, number>): void {
    const cur = this.store.peek('namespaces', undefined, ns);
    if (!cur) return;
    const old: any[] = cur.status?.conditions ?? [];
    const cond = (type: string, status: string, reason: string, message: string) => {
      const prev = old.find((c) => c.type === type);
      const lastTransitionTime = prev && prev.status === status ? prev.lastTransitionTime : nowRFC3339(this.clock.now());
      return { type, status, lastTransitionTime, reason, message };
    };
    const list = (m: Map<string, number>, fmt: (k: string, n: number) => string) =>
      [...m.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => fmt(k, n))
        .join(', ');
    const conditions = [
      cond('NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered'),
      cond('NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'),
      cond('NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'),
      cond('NamespaceContentRemaining', 'True', 'SomeResourcesRemain', `Some resources are remaining: ${list(counts, (k, n) => `${k} has ${n} resource instances`)}`),
      finalizers.size
        ? cond('NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${list(finalizers, (k, n) => `${k} in ${n} resource instances`)}`)
        : cond('NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'),
    ];
    if (deepEqual(conditions, old)) return;
    this.store.update('namespaces', undefined, ns, { ...cur, status: { ...cur.status, conditions } }, { ...CONTROLLER_MANAGER, subresource: 'status' });
  }
}
