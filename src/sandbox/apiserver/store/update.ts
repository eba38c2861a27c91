/** Update (AS pkg/registry/generic/registry/store.go Update): main resource and the status, finalize and scale subresources. */
import type { KubeObject, ResourceKey, ResourceType, WriteOptions } from '../../types.js';
import { badRequest, conflict, field, invalid, notFound } from '../../machinery/errors.js';
import { type ManagedFieldsEntry, recordUpdate } from '../fields.js';
import { deepEqual, isPlainObject } from '../patch.js';
import { apiVersionOf, hasStatusSubresource } from '../resources.js';
import { applyDefaults, hasGeneration, validate } from '../strategy.js';
import { scaleReplicas } from '../strategy/apps.js';
import { equalButTimes, scopeOf, type RegistryContext } from './context.js';
import { gr, scopeNs } from './storage.js';

export function updateObject(
  c: RegistryContext,
  key: ResourceKey,
  ns: string | undefined,
  name: string,
  input: KubeObject,
  wopts: WriteOptions,
  applied?: ManagedFieldsEntry[],
): KubeObject {
  const r = c.storage.resourceFor(key);
  ns = scopeNs(r, ns);
  const existing = c.storage.raw(key, ns, name);
  if (!existing) throw notFound(gr(r), name);
  checkUpdateInput(r, existing, input, ns, name);

  const sub = wopts.subresource;
  const obj = objectForSubresource(key, r, existing, input, sub, name);
  obj.apiVersion = apiVersionOf(r);
  obj.kind = r.kind;
  obj.metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
  const m = obj.metadata;
  const requestedMF = carryServerMetadata(r, obj, existing);
  const em = existing.metadata;

  applyDefaults(r, obj);
  if (key === 'services') c.addresses.allocate(obj, existing, !!wopts.dryRun);
  if (key === 'pods' && obj.status) obj.status.qosClass ??= existing.status?.qosClass;
  if (hasGeneration(r)) {
    m.generation = em.generation ?? 1;
    if (sub !== 'status' && !deepEqual(obj.spec, existing.spec)) m.generation = (em.generation ?? 0) + 1;
  }
  if (em.deletionTimestamp) {
    // Finalizers cannot be added to an object being deleted (ValidateObjectMetaUpdate).
    const added = (m.finalizers ?? []).filter((f: string) => !(em.finalizers ?? []).includes(f));
    if (added.length) {
      throw invalid({ group: r.group, kind: r.kind }, name, [field.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f: string) => JSON.stringify(f)).join(', ')}}`)]);
    }
  }
  validate(r, obj, existing);

  const manager = wopts.fieldManager || c.defaultManager;
  const base = requestedMF ? { ...existing, metadata: { ...existing.metadata, managedFields: requestedMF.filter((e) => e && e.manager) } } : existing;
  m.managedFields = applied ?? recordUpdate(base, obj, manager, apiVersionOf(r), scopeOf(r, sub), sub === 'status' ? 'status' : sub === 'scale' ? 'scale' : undefined);
  if (!m.managedFields.length) delete m.managedFields;

  // A write that changes nothing (timestamps of managedFields aside) is not a write: same resourceVersion, no event.
  if (equalButTimes(obj, existing)) return structuredClone(existing);
  if (wopts.dryRun) return structuredClone(obj);

  // ShouldDeleteDuringUpdate: the last finalizer went away from an object whose deletion was already decided.
  if (m.deletionTimestamp && !(m.finalizers ?? []).length && (m.deletionGracePeriodSeconds ?? 0) === 0 && key !== 'namespaces') {
    c.storage.commit('DELETED', key, obj, existing);
    return structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(c.storage.resourceVersion) } });
  }
  return c.storage.commit('MODIFIED', key, obj, existing);
}
/** The request's own checks: an object, naming this object, at its resourceVersion if it gives one. */
function checkUpdateInput(r: ResourceType, existing: KubeObject, input: KubeObject, ns: string | undefined, name: string): void {
  if (!isPlainObject(input)) throw badRequest('Object in body is not a valid object');
  const inMeta = isPlainObject(input.metadata) ? input.metadata : {};
  if (inMeta.name && inMeta.name !== name) {
    throw badRequest(`the name of the object (${inMeta.name}) does not match the name on the URL (${name})`);
  }
  if (r.namespaced && inMeta.namespace && inMeta.namespace !== ns) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (inMeta.resourceVersion && inMeta.resourceVersion !== existing.metadata.resourceVersion) throw conflict(gr(r), name);

}

/** The object a write to `sub` (status, finalize, scale, or the main resource) makes of the stored one and the input. */
function objectForSubresource(key: ResourceKey, r: ResourceType, existing: KubeObject, input: KubeObject, sub: string | undefined, name: string): KubeObject {
  let obj: KubeObject;
  if (sub === 'status') {
    obj = structuredClone(input);
    obj.spec = structuredClone(existing.spec);
    if (existing.spec === undefined) delete obj.spec;
    if (key === 'apps/deployments' || key === 'apps/replicasets') obj.metadata = { ...obj.metadata, labels: existing.metadata.labels };
    if (key === 'pods') obj.metadata = { ...obj.metadata, ownerReferences: existing.metadata.ownerReferences };
    if (key === 'namespaces') obj.spec = structuredClone(existing.spec);
    for (const k of Object.keys(existing)) if (!['metadata', 'status', 'spec', 'apiVersion', 'kind'].includes(k)) obj[k] = structuredClone(existing[k]);
  } else if (sub === 'finalize') {
    obj = structuredClone(existing);
    obj.spec = { ...(obj.spec ?? {}), finalizers: [...(input.spec?.finalizers ?? [])] };
    if (!obj.spec.finalizers.length) delete obj.spec.finalizers;
  } else if (sub === 'scale') {
    obj = structuredClone(existing);
    obj.spec.replicas = scaleReplicas(input, name);
  } else {
    obj = structuredClone(input);
    if (hasStatusSubresource(r)) {
      obj.status = structuredClone(existing.status);
      if (existing.status === undefined) delete obj.status;
    }
    if (key === 'namespaces') obj.spec = { ...(obj.spec ?? {}), finalizers: existing.spec?.finalizers };
  }
  return obj;
}

/**
 * The metadata only the server sets, carried over from the stored object (AS rest.BeforeUpdate). Answers the
 * managedFields the write asked for when they replace the stored ones.
 */
function carryServerMetadata(r: ResourceType, obj: KubeObject, existing: KubeObject): ManagedFieldsEntry[] | undefined {
  const m = obj.metadata;
  const em = existing.metadata;
  m.name = em.name;
  if (r.namespaced) m.namespace = em.namespace;
  else delete m.namespace;
  m.uid = em.uid;
  m.creationTimestamp = em.creationTimestamp;
  m.resourceVersion = em.resourceVersion;
  if (em.deletionTimestamp) m.deletionTimestamp = em.deletionTimestamp;
  else delete m.deletionTimestamp;
  if (em.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = em.deletionGracePeriodSeconds;
  else delete m.deletionGracePeriodSeconds;
  if (em.generateName && !m.generateName) m.generateName = em.generateName;
  // managedFields in a write replace the stored ones when they differ (kubectl's client-side-apply -> SSA upgrade
  // patches them this way); `[{}]` clears them; absent or unchanged keeps the stored ones (AM managedfields).
  const requestedMF =
    Array.isArray(m.managedFields) && m.managedFields.length > 0 && !deepEqual(m.managedFields, em.managedFields ?? []) ? (m.managedFields as ManagedFieldsEntry[]) : undefined;
  delete m.managedFields;
  if (m.finalizers && !m.finalizers.length) delete m.finalizers;
  if (m.ownerReferences && !m.ownerReferences.length) delete m.ownerReferences;
  if (m.labels && !Object.keys(m.labels).length) delete m.labels;
  if (m.annotations && !Object.keys(m.annotations).length) delete m.annotations;
  return requestedMF;
}
