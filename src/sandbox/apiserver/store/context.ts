/** What the registry's write paths share: the storage, the clock and random source, and the allocators. */
import type { KubeObject, ResourceType } from '../../types.js';
import { badRequest, namespaceTerminating, notFound } from '../../machinery/errors.js';
import type { OwnershipScope } from '../field-paths.js';
import { deepEqual } from '../patch.js';
import { hasStatusSubresource } from '../resources.js';
import type { ServiceAddresses } from '../strategy/service-ips.js';
import { gr, type Storage } from './storage.js';

export interface RegistryContext {
  storage: Storage;
  now(): Date;
  /** Random source for generated names, cluster IPs and node ports. */
  random(): number;
  /** Field manager for in-process writes that name none. */
  defaultManager: string;
  addresses: ServiceAddresses;
}

export function scopeOf(r: ResourceType, subresource?: string): OwnershipScope {
  if (subresource === 'status') return 'status';
  return hasStatusSubresource(r) ? 'main' : 'all';
}

/**
 * Whether two objects are equal but for the times of their managedFields entries (a write that changes nothing else
 * is no write). Compares shallow copies with the times left out: deep copies of both, once per write, were a large
 * part of the sandbox's CPU.
 */
export function equalButTimes(a: KubeObject, b: KubeObject): boolean {
  const untimed = (o: KubeObject): KubeObject => {
    const fields = o.metadata?.managedFields;
    if (!Array.isArray(fields)) return o;
    return { ...o, metadata: { ...o.metadata, managedFields: fields.map((e) => (e && typeof e === 'object' ? { ...e, time: undefined } : e)) } };
  };
  return deepEqual(untimed(a), untimed(b));
}

/** Writes into a namespace need a namespace that exists and is not terminating (the NamespaceLifecycle admission plugin). */
export function checkNamespace(c: RegistryContext, r: ResourceType, ns: string | undefined, name: string): void {
  if (!r.namespaced) return;
  if (!ns) throw badRequest('the server could not find the requested resource: a namespace is required');
  const nsObj = c.storage.raw('namespaces', undefined, ns);
  if (!nsObj) throw notFound({ group: '', resource: 'namespaces' }, ns);
  if (nsObj.metadata.deletionTimestamp || nsObj.status?.phase === 'Terminating') throw namespaceTerminating(gr(r), name, ns);
}
