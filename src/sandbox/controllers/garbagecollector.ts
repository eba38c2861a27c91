/**
 * The garbage collector (K pkg/controller/garbagecollector): honours the `orphan` finalizer (dependents lose their
 * owner reference to the object, then the finalizer goes) and `foregroundDeletion` (dependents are deleted first; the
 * finalizer goes when none with blockOwnerDeletion remains), and deletes, in the background, dependents whose owners
 * are all gone. One pass over every object shortly after a change that can give it work, as upstream's graph
 * builder reacts to its informers.
 */
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../machinery/finalizers.js';
import type { ClusterStore, KubeObject, ResourceKey, StoreEvent } from '../types.js';
import { CONTROLLER_MANAGER, PassController, allObjects, safe, type LifecycleControllerOptions } from './lifecycle.js';

export class GarbageCollector extends PassController {
  /** The uids of every object (the graph builder's uidToNode, reduced to existence). */
  private readonly uids = new Set<string>();

  constructor(store: ClusterStore, opts: LifecycleControllerOptions = {}) {
    super(store, 'garbagecollector', opts);
  }

  protected seed(): void {
    for (const { obj } of allObjects(this.store)) this.uids.add(obj.metadata.uid!);
    this.pass.request();
  }

  protected onEvent(ev: StoreEvent): void {
    const m = ev.object.metadata;
    if (ev.type === 'DELETED') this.uids.delete(m.uid!);
    else this.uids.add(m.uid!);
    // A pass only has work after removals, pending deletions or dangling owner references; skipping it otherwise
    // keeps status-heavy workloads cheap.
    if (ev.type === 'DELETED' || m.deletionTimestamp || (m.ownerReferences ?? []).some((ref) => !this.uids.has(ref.uid))) this.pass.request();
  }

  protected run(): void {
    this.processDeletingOwners(allObjects(this.store));
    this.deleteOrphanedDependents();
  }

  /** Owners being deleted with the orphan or foregroundDeletion finalizer. */
  private processDeletingOwners(all: { key: ResourceKey; obj: KubeObject }[]): void {
    const dependentsOf = (uid: string) => all.filter((x) => (x.obj.metadata.ownerReferences ?? []).some((ref) => ref.uid === uid));
    for (const { key, obj } of all) {
      const m = obj.metadata;
      const ns = m.namespace;
      if (!m.deletionTimestamp) continue;
      if ((m.finalizers ?? []).includes(FINALIZER_ORPHAN)) {
        // Orphan: dependents lose their ownerReference to this owner, then the finalizer goes.
        for (const d of dependentsOf(m.uid!)) {
          safe(() => {
            const cur = this.store.find(d.key, d.obj.metadata.namespace, d.obj.metadata.name!);
            if (!cur) return;
            const c = structuredClone(cur);
            c.metadata.ownerReferences = (c.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== m.uid);
            this.store.update(d.key, cur.metadata.namespace, cur.metadata.name!, c, CONTROLLER_MANAGER);
          });
        }
        safe(() => this.removeFinalizer(key, ns, m.name!, FINALIZER_ORPHAN));
      } else if ((m.finalizers ?? []).includes(FINALIZER_FOREGROUND)) {
        const deps = dependentsOf(m.uid!);
        for (const d of deps) {
          if (d.obj.metadata.deletionTimestamp) continue;
          const ref = d.obj.metadata.ownerReferences!.find((x) => x.uid === m.uid)!;
          safe(() => this.store.delete(d.key, d.obj.metadata.namespace, d.obj.metadata.name!, { propagationPolicy: ref.blockOwnerDeletion ? 'Foreground' : 'Background' }));
        }
        const blocking = dependentsOf(m.uid!).filter((d) => this.store.find(d.key, d.obj.metadata.namespace, d.obj.metadata.name!) && d.obj.metadata.ownerReferences!.some((x) => x.uid === m.uid && x.blockOwnerDeletion));
        if (!blocking.length) safe(() => this.removeFinalizer(key, ns, m.name!, FINALIZER_FOREGROUND));
      }
    }
  }

  /** Dependents whose owners are all gone are deleted (Background), as the GC's attemptToDeleteItem does. */
  private deleteOrphanedDependents(): void {
    for (const { key, obj } of allObjects(this.store)) {
      const refs = obj.metadata.ownerReferences ?? [];
      if (!refs.length || obj.metadata.deletionTimestamp) continue;
      if (refs.every((ref) => !this.uids.has(ref.uid))) {
        safe(() => this.store.delete(key, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: 'Background' }));
      }
    }
  }

  private removeFinalizer(key: ResourceKey, ns: string | undefined, name: string, fin: string): void {
    const cur = this.store.find(key, ns, name);
    if (!cur) return;
    const c = structuredClone(cur);
    c.metadata.finalizers = (c.metadata.finalizers ?? []).filter((f) => f !== fin);
    this.store.update(key, ns, name, c, CONTROLLER_MANAGER);
  }
}
