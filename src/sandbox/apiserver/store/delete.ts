/** Delete (AS pkg/registry/generic/registry/store.go Delete): preconditions, finalizers, propagation, graceful pod deletion. */
import type { DeleteOptions, KubeObject, ResourceKey, ResourceType } from '../../types.js';
import { conflict, forbidden, notFound } from '../../machinery/errors.js';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../../machinery/finalizers.js';
import { deepEqual } from '../patch.js';
import { podDeleteGrace } from '../strategy/pods.js';
import type { RegistryContext } from './context.js';
import { gr, scopeNs, ts } from './storage.js';

/** Namespaces that cannot be deleted (AS pkg/admission/plugin/namespace/lifecycle/admission.go). */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

export function deleteObject(c: RegistryContext, key: ResourceKey, ns: string | undefined, name: string, dopts: DeleteOptions): KubeObject | undefined {
  const r = c.storage.resourceFor(key);
  ns = scopeNs(r, ns);
  const existing = c.storage.raw(key, ns, name);
  if (!existing) throw notFound(gr(r), name);
  const pre = dopts.preconditions;
  if (pre?.uid && pre.uid !== existing.metadata.uid) {
    throw conflict(gr(r), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
    throw conflict(gr(r), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
  }
  const obj = structuredClone(existing);
  const m = obj.metadata;

  if (key === 'namespaces') return deleteNamespace(c, r, name, obj, existing, dopts);

  // The policy: explicit, else the kind's default (batch/v1 Jobs orphan: K pkg/registry/batch/job/strategy.go
  // DefaultGarbageCollectionPolicy; apps/v1 and everything else delete dependents in the background).
  const policy = dopts.propagationPolicy ?? (key === 'batch/jobs' ? 'Orphan' : 'Background');
  const gcFinalizer = policy === 'Orphan' ? FINALIZER_ORPHAN : policy === 'Foreground' ? FINALIZER_FOREGROUND : undefined;

  if (key === 'pods') {
    // Graceful deletion (K pkg/registry/core/pod/strategy.go CheckGracefulDelete): unscheduled or terminal pods
    // go at once; others get deletionTimestamp = now + grace and stay until the kubelet confirms with grace 0.
    const grace = podDeleteGrace(obj, dopts);
    if (m.deletionTimestamp && m.deletionGracePeriodSeconds !== undefined && grace >= m.deletionGracePeriodSeconds) {
      return structuredClone(existing); // already deleting with an equal or shorter grace period
    }
    if (grace > 0) {
      m.deletionTimestamp = ts(new Date(c.now().getTime() + grace * 1000));
      m.deletionGracePeriodSeconds = grace;
      if (gcFinalizer && !(m.finalizers ?? []).includes(gcFinalizer)) m.finalizers = [...(m.finalizers ?? []), gcFinalizer];
      if (dopts.dryRun) return obj;
      return c.storage.commit('MODIFIED', key, obj, existing);
    }
  }

  const finalizers = [...(m.finalizers ?? [])];
  if (gcFinalizer && !m.deletionTimestamp && !finalizers.includes(gcFinalizer)) finalizers.push(gcFinalizer);
  if (finalizers.length) {
    const already = !!m.deletionTimestamp && m.deletionGracePeriodSeconds === 0 && deepEqual(finalizers, m.finalizers ?? []);
    if (already) return structuredClone(existing);
    m.deletionTimestamp ??= ts(c.now());
    m.deletionGracePeriodSeconds = 0;
    m.finalizers = finalizers;
    if (dopts.dryRun) return obj;
    return c.storage.commit('MODIFIED', key, obj, existing);
  }
  if (dopts.dryRun) return undefined;
  c.storage.commit('DELETED', key, obj, existing);
  return undefined;
}
/** A namespace's first DELETE makes it Terminating (the namespace controller empties it); it goes once finalized. */
function deleteNamespace(c: RegistryContext, r: ResourceType, name: string, obj: KubeObject, existing: KubeObject, dopts: DeleteOptions): KubeObject | undefined {
  const key = 'namespaces';
  const m = obj.metadata;
  // K pkg/registry/core/namespace/storage/storage.go Delete + the lifecycle admission plugin.
  if (IMMORTAL_NAMESPACES.has(name)) throw forbidden(gr(r), name, 'this namespace may not be deleted');
  // Until the namespace controller has removed its finalizer (K pkg/registry/core/namespace/storage/storage.go Delete).
  if (m.deletionTimestamp && (obj.spec?.finalizers ?? []).length) {
    throw conflict(gr(r), name, 'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.');
  }
  if (!(obj.spec?.finalizers ?? []).length && !(m.finalizers ?? []).length) {
    if (dopts.dryRun) return undefined;
    c.storage.commit('DELETED', key, obj, existing);
    return undefined;
  }
  if (m.deletionTimestamp) return structuredClone(existing); // finalized, waiting for its metadata.finalizers
  m.deletionTimestamp = ts(c.now());
  m.deletionGracePeriodSeconds = 0;
  obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
  if (dopts.dryRun) return obj;
  return c.storage.commit('MODIFIED', key, obj, existing);
}
