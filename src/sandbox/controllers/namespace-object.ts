/**
 * A controller that keeps one object in every live namespace, as kube-controller-manager's ServiceAccounts controller
 * (the `default` ServiceAccount) and root-CA publisher (`kube-root-ca.crt`) do, keyed by namespace name: created with
 * the namespace, and re-created when it is deleted.
 */
import { QueueController, type ControllerBaseOptions } from '../machinery/controller.js';
import type { ClusterStore, KubeObject, ResourceKey, StoreEvent } from '../types.js';
import { CONTROLLER_MANAGER } from './lifecycle.js';

export abstract class NamespaceObjectController extends QueueController {
  constructor(
    store: ClusterStore,
    controllerName: string,
    /** The resource and name of the object kept in every namespace. */
    private readonly resource: ResourceKey,
    private readonly objectName: string,
    opts: ControllerBaseOptions = {},
  ) {
    super(store, controllerName, opts);
  }

  /** The object to create in namespace `ns`. */
  protected abstract object(ns: string): KubeObject;

  /** The namespaces present at start get their object at once, as new ones do (see handle). */
  override start(): this {
    super.start();
    for (const ns of this.store.view('namespaces', undefined)) this.syncNow(ns.metadata.name!);
    return this;
  }

  protected initialKeys(): string[] {
    return [];
  }

  protected handle(ev: StoreEvent): void {
    // A new namespace gets its object in the same turn, not a queued one later: a pod created right after its namespace
    // must find its ServiceAccount (upstream's clients retry that race; the sandbox's need not meet it).
    if (ev.key === 'namespaces' && ev.type === 'ADDED') this.syncNow(ev.object.metadata.name!);
    else if (ev.key === this.resource && ev.type === 'DELETED' && ev.object.metadata.name === this.objectName) this.queue.add(ev.object.metadata.namespace!);
  }

  /** Syncs a namespace in this turn; a failure is the queue's to retry. */
  private syncNow(ns: string): void {
    try {
      this.sync(ns);
    } catch {
      this.queue.add(ns);
    }
  }

  protected sync(ns: string): void {
    const nsObj = this.store.peek('namespaces', undefined, ns);
    if (!nsObj || nsObj.metadata.deletionTimestamp) return;
    if (!this.store.peek(this.resource, ns, this.objectName)) this.store.create(this.resource, ns, this.object(ns), CONTROLLER_MANAGER);
  }
}
