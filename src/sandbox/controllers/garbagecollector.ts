/**
 * The garbage collector (K pkg/controller/garbagecollector): honours the `orphan` finalizer (dependents lose their
 * owner reference to the object, then the finalizer goes) and `foregroundDeletion` (dependents are deleted first; the
 * finalizer goes when none with blockOwnerDeletion remains), and deletes, in the background, dependents whose owners
 * are all gone. As upstream's graph builder, it keeps every object's owner references from the store's change stream
 * and queues, by uid, the objects a change gives work: one being deleted with either finalizer, one whose owners are
 * all gone, the dependents of a deleted object, and the owners being deleted of a changed dependent.
 */
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../machinery/finalizers.js';
import { QueueController, type ControllerBaseOptions } from '../machinery/controller.js';
import type { ClusterStore, KubeObject, ResourceKey, StoreEvent } from '../types.js';
import { CONTROLLER_MANAGER, allObjects, safe } from './lifecycle.js';

/** An object of the graph: where it is, whom it names as owners, and whether it is being deleted. */
interface GraphNode {
  key: ResourceKey;
  namespace: string | undefined;
  name: string;
  owners: string[];
  deleting: boolean;
}

export class GarbageCollector extends QueueController {
  /** Every object by uid (the graph builder's uidToNode). */
  private readonly nodes = new Map<string, GraphNode>();
  /** Owner uid -> the uids of the objects naming it, whether it exists or not (a dangling reference). */
  private readonly dependents = new Map<string, Set<string>>();

  constructor(store: ClusterStore, opts: ControllerBaseOptions = {}) {
    super(store, 'garbagecollector', opts);
  }

  protected initialKeys(): string[] {
    const all = allObjects(this.store);
    for (const { key, obj } of all) this.observe(key, obj);
    return all.filter(({ obj }) => this.hasWork(obj)).map(({ obj }) => obj.metadata.uid!);
  }

  protected handle(ev: StoreEvent): void {
    const uid = ev.object.metadata.uid!;
    const ownersBefore = this.nodes.get(uid)?.owners ?? [];
    if (ev.type === 'DELETED') this.forget(uid);
    else this.observe(ev.key, ev.object);
    // Owners being deleted wait for this dependent to go (foreground) or are orphaning it: theirs to check again.
    for (const owner of new Set([...ownersBefore, ...(this.nodes.get(uid)?.owners ?? [])])) if (this.nodes.get(owner)?.deleting) this.queue.add(owner);
    if (ev.type === 'DELETED') for (const d of this.dependents.get(uid) ?? []) this.queue.add(d);
    else if (this.hasWork(ev.object)) this.queue.add(uid);
  }

  /** Whether an object is the collector's to act on: being deleted with its finalizer, or left without any owner. */
  private hasWork(obj: KubeObject): boolean {
    const m = obj.metadata;
    if (m.deletionTimestamp) return (m.finalizers ?? []).some((f) => f === FINALIZER_ORPHAN || f === FINALIZER_FOREGROUND);
    const refs = m.ownerReferences ?? [];
    return refs.length > 0 && refs.every((ref) => !this.nodes.has(ref.uid));
  }

  protected sync(uid: string): void {
    const node = this.nodes.get(uid);
    const obj = node && this.store.peek(node.key, node.namespace, node.name);
    if (!node || !obj || obj.metadata.uid !== uid || !this.hasWork(obj)) return;
    const finalizers = obj.metadata.finalizers ?? [];
    // Dependents whose owners are all gone are deleted (Background), as the GC's attemptToDeleteItem does.
    if (!obj.metadata.deletionTimestamp) safe(() => this.store.delete(node.key, node.namespace, node.name, { propagationPolicy: 'Background' }));
    else if (finalizers.includes(FINALIZER_ORPHAN)) this.orphanDependents(node, uid);
    else this.deleteDependents(node, uid);
  }

  /** Orphan: dependents lose their ownerReference to this owner, then the finalizer goes. */
  private orphanDependents(owner: GraphNode, uid: string): void {
    for (const d of this.dependentObjects(uid)) {
      safe(() => {
        const c = structuredClone(d.obj);
        c.metadata.ownerReferences = (c.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== uid);
        this.store.update(d.key, d.obj.metadata.namespace, d.obj.metadata.name!, c, CONTROLLER_MANAGER);
      });
    }
    safe(() => this.removeFinalizer(owner, FINALIZER_ORPHAN));
  }

  /** Foreground: dependents are deleted (foreground themselves when they block this owner); the finalizer goes once none blocks. */
  private deleteDependents(owner: GraphNode, uid: string): void {
    for (const d of this.dependentObjects(uid)) {
      if (d.obj.metadata.deletionTimestamp) continue;
      const ref = d.obj.metadata.ownerReferences!.find((x) => x.uid === uid)!;
      safe(() => this.store.delete(d.key, d.obj.metadata.namespace, d.obj.metadata.name!, { propagationPolicy: ref.blockOwnerDeletion ? 'Foreground' : 'Background' }));
    }
    const blocking = this.dependentObjects(uid).some((d) => d.obj.metadata.ownerReferences!.some((x) => x.uid === uid && x.blockOwnerDeletion));
    if (!blocking) safe(() => this.removeFinalizer(owner, FINALIZER_FOREGROUND));
  }

  /** The objects that name `uid` as an owner, as the store has them now. */
  private dependentObjects(uid: string): { key: ResourceKey; obj: KubeObject }[] {
    const out: { key: ResourceKey; obj: KubeObject }[] = [];
    for (const d of this.dependents.get(uid) ?? []) {
      const node = this.nodes.get(d);
      const obj = node && this.store.peek(node.key, node.namespace, node.name);
      if (node && obj?.metadata.uid === d && (obj.metadata.ownerReferences ?? []).some((ref) => ref.uid === uid)) out.push({ key: node.key, obj });
    }
    return out;
  }

  private removeFinalizer(node: GraphNode, fin: string): void {
    const cur = this.store.peek(node.key, node.namespace, node.name);
    if (!cur) return;
    const c = structuredClone(cur);
    c.metadata.finalizers = (c.metadata.finalizers ?? []).filter((f) => f !== fin);
    this.store.update(node.key, node.namespace, node.name, c, CONTROLLER_MANAGER);
  }

  private observe(key: ResourceKey, obj: KubeObject): void {
    const uid = obj.metadata.uid!;
    const owners = [...new Set((obj.metadata.ownerReferences ?? []).map((ref) => ref.uid))];
    for (const owner of this.nodes.get(uid)?.owners ?? []) if (!owners.includes(owner)) this.unlink(owner, uid);
    for (const owner of owners) {
      const set = this.dependents.get(owner) ?? new Set<string>();
      this.dependents.set(owner, set.add(uid));
    }
    this.nodes.set(uid, { key, namespace: obj.metadata.namespace, name: obj.metadata.name!, owners, deleting: Boolean(obj.metadata.deletionTimestamp) });
  }

  /** A deleted object leaves the graph; its dependents keep naming it (dangling references) until they change. */
  private forget(uid: string): void {
    const node = this.nodes.get(uid);
    if (!node) return;
    this.nodes.delete(uid);
    for (const owner of node.owners) this.unlink(owner, uid);
  }

  private unlink(owner: string, dependent: string): void {
    const set = this.dependents.get(owner);
    if (!set) return;
    set.delete(dependent);
    if (!set.size) this.dependents.delete(owner);
  }
}
