/**
 * A controller that keeps one object in every live namespace, as kube-controller-manager's ServiceAccounts controller
 * (the `default` ServiceAccount) and root-CA publisher (`kube-root-ca.crt`) do: created with the namespace (in the
 * same turn, so a pod created right after its namespace finds its ServiceAccount), and re-created shortly after it is
 * deleted.
 */
import { systemClock, type Clock } from '../machinery/clock.js';
import type { ClusterStore, KubeObject, ResourceKey, StoreEvent } from '../types.js';
import { CONTROLLER_MANAGER, safe, type LifecycleControllerOptions } from './lifecycle.js';

export abstract class NamespaceObjectController {
  private readonly clock: Clock;
  private readonly delayMs: number;
  private readonly timers = new Set<() => void>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    protected readonly store: ClusterStore,
    private readonly key: ResourceKey,
    private readonly name: string,
    opts: LifecycleControllerOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.delayMs = opts.delayMs ?? 1;
  }

  /** The object to create in namespace `ns`. */
  protected abstract object(ns: string): KubeObject;

  start(): this {
    this.unsubscribe = this.store.subscribe((ev) => this.onEvent(ev));
    for (const ns of this.store.list('namespaces', undefined).items) safe(() => this.ensure(ns.metadata.name!));
    return this;
  }

  stop(): void {
    this.unsubscribe?.();
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.key === 'namespaces' && ev.type === 'ADDED') safe(() => this.ensure(ev.object.metadata.name!));
    else if (ev.key === this.key && ev.type === 'DELETED' && ev.object.metadata.name === this.name) {
      const cancel = this.clock.after(this.delayMs, () => {
        this.timers.delete(cancel);
        safe(() => this.ensure(ev.object.metadata.namespace!));
      });
      this.timers.add(cancel);
    }
  }

  private ensure(ns: string): void {
    const nsObj = this.store.find('namespaces', undefined, ns);
    if (!nsObj || nsObj.metadata.deletionTimestamp) return;
    if (!this.store.find(this.key, ns, this.name)) this.store.create(this.key, ns, this.object(ns), CONTROLLER_MANAGER);
  }
}
