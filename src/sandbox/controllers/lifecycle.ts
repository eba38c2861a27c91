/**
 * What the object-lifecycle controllers (garbage collector, namespace controller, ServiceAccounts, root-CA publisher)
 * share: how they write, and the list of everything the garbage collector starts from.
 */
import { isStatusError } from '../machinery/errors.js';
import { keyOf } from '../machinery/resource-key.js';
import type { ClusterStore, KubeObject, ResourceKey } from '../types.js';

/** Writes of kube-controller-manager's controllers. */
export const CONTROLLER_MANAGER = { fieldManager: 'kube-controller-manager' };

/**
 * Runs a write whose target may have changed or gone meanwhile: the change that made it fail is an event, which
 * queues the key again, and that sync sees the new state.
 */
export function safe(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!isStatusError(e)) throw e;
  }
}

/** Every object of every served resource. */
export function allObjects(store: ClusterStore): { key: ResourceKey; obj: KubeObject }[] {
  const out: { key: ResourceKey; obj: KubeObject }[] = [];
  for (const r of store.resources) {
    const key = keyOf(r);
    for (const obj of store.view(key, undefined)) out.push({ key, obj });
  }
  return out;
}
