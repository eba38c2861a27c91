/** What the registry's write paths share: the storage, the clock and random source, and the allocators. */
import type { KubeObject, ResourceType } from '../../types.js';
import { badRequest, namespaceTerminating, notFound } from '../../machinery/errors.js';
import type { OwnershipScope } from '../field-paths.js';
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

export function stripTimes(o: KubeObject): KubeObject {
  const c = structuredClone(o);
  for (const e of c.metadata.managedFields ?? []) delete e.time;
  return c;
}

/** Writes into a namespace need a namespace that exists and is not terminating (the NamespaceLifecycle admission plugin). */
export function checkNamespace(c: RegistryContext, r: ResourceType, ns: string | undefined, name: string): void {
  if (!r.namespaced) return;
  if (!ns) throw badRequest('the server could not find the requested resource: a namespace is required');
  const nsObj = c.storage.raw('namespaces', undefined, ns);
  if (!nsObj) throw notFound({ group: '', resource: 'namespaces' }, ns);
  if (nsObj.metadata.deletionTimestamp || nsObj.status?.phase === 'Terminating') throw namespaceTerminating(gr(r), name, ns);
}
