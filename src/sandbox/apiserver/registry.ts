/**
 * The in-memory registry: the API server's storage with Kubernetes semantics (AS pkg/registry/generic/registry/store.go
 * plus the per-kind strategies). Synchronous; every committed change gets the next value of one global
 * resourceVersion counter and is delivered to subscribers after the commit, in commit order.
 *
 * Also runs the small control loops the API server's own process (or kube-controller-manager) owns and that the
 * storage semantics depend on: garbage collection of dependents (ownerReferences, orphan/foregroundDeletion
 * finalizers), the namespace lifecycle (delete content, then the `kubernetes` finalizer, then the namespace), the
 * `default` ServiceAccount and `kube-root-ca.crt` ConfigMap of every namespace.
 */
import { randomUUID } from 'node:crypto';
import type {
  ClusterStore,
  DeleteOptions,
  KubeObject,
  ListOptions,
  PatchOptions,
  PatchType,
  ResourceKey,
  ResourceType,
  StoreEvent,
  StoreEventType,
  WriteOptions,
} from '../types.js';
import { StatusError, alreadyExists, badRequest, conflict, field, forbidden, invalid, namespaceTerminating, notFound } from '../machinery/errors.js';
import { type ManagedFieldsEntry, type OwnershipScope, applyConfig, recordUpdate } from './fields.js';
import { deepEqual, isPlainObject, jsonPatch, mergePatch, strategicMerge } from './patch.js';
import { RESOURCE_TYPES, apiVersionOf, hasStatusSubresource, keyOf } from './resources.js';
import { compileFilter, filterMatches } from './selectors.js';
import { qosClass } from '../machinery/qos.js';
import { applyDefaults, generateJobSelector, hasGeneration, keyOfType, validate } from './strategy.js';

export interface ClusterStoreOptions {
  /** Clock for timestamps (default: the system clock). */
  now?: () => Date;
  /** Random source for generated names, cluster IPs and node ports (default Math.random). */
  random?: () => number;
  /** Delay before the asynchronous garbage-collection / namespace-cleanup pass runs after a change (ms, default 1). */
  gcDelayMs?: number;
  /** Field manager for in-process writes that name none (default `sandbox`). */
  defaultFieldManager?: string;
  /** The CA bundle published in every namespace's kube-root-ca.crt (startSandbox: its CA; default a placeholder). */
  rootCA?: string;
}

/** The registry plus what the HTTP layer needs beyond the shared contract. */
export interface SandboxStore extends ClusterStore {
  /** The current global resourceVersion (what a list would report). */
  resourceVersion(): string;
  /** Resolves a URL's group/version/plural to a served type. */
  lookup(group: string, version: string, resource: string): ResourceType | undefined;
  /** Waits until pending GC / namespace-cleanup passes have run (tests, shutdown). */
  settle(): Promise<void>;
}

/** Namespaces that cannot be deleted (AS pkg/admission/plugin/namespace/lifecycle/admission.go). */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const NAMESPACE_FINALIZER = 'kubernetes';

/** AS pkg/storage/names/generate.go: 5 chars from AM pkg/util/rand alphanums, prefix cut to 58. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Kinds whose DELETE returns the object instead of a Status (registries with ReturnDeletedObject). */
export const RETURNS_DELETED_OBJECT = new Set(['pods', 'services', 'serviceaccounts', 'namespaces', 'nodes']);

function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const gr = (r: ResourceType) => ({ group: r.group, resource: r.resource });

/** The `kubernetes` Service's cluster IP (the first of the service range, as upstream's). */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

/** kube-root-ca.crt's content for a store with no API server CA (in-process tests). */
const PLACEHOLDER_CA = '-----BEGIN CERTIFICATE-----\nMIIBsandboxCAnotARealCertificate\n-----END CERTIFICATE-----\n';

export function createClusterStore(opts: ClusterStoreOptions = {}): SandboxStore {
  const now = opts.now ?? (() => new Date());
  const random = opts.random ?? Math.random;
  const gcDelay = opts.gcDelayMs ?? 1;
  const defaultManager = opts.defaultFieldManager ?? 'sandbox';

  const types = new Map<ResourceKey, ResourceType>(RESOURCE_TYPES.map((r) => [keyOf(r), r]));
  const buckets = new Map<ResourceKey, Map<string, KubeObject>>();
  for (const k of types.keys()) buckets.set(k, new Map());
  const byUid = new Map<string, { key: ResourceKey; ns: string; name: string }>();
  const allocatedIPs = new Set<string>(['10.96.0.0']);
  const allocatedNodePorts = new Set<number>();
  let rv = 0;

  const listeners = new Set<(e: StoreEvent) => void>();
  const queue: StoreEvent[] = [];
  let draining = false;

  const resourceFor = (key: ResourceKey): ResourceType => {
    const r = types.get(key);
    if (!r) throw new StatusError(404, 'NotFound', `the server could not find the requested resource (${key})`, { kind: key });
    return r;
  };

  const itemKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

  const scopeNs = (r: ResourceType, ns: string | undefined): string | undefined => (r.namespaced ? ns : undefined);

  function raw(key: ResourceKey, ns: string | undefined, name: string): KubeObject | undefined {
    const r = resourceFor(key);
    return buckets.get(key)!.get(itemKey(scopeNs(r, ns), name));
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Commit + events

  function drain(): void {
    if (draining) return;
    draining = true;
    try {
      while (queue.length) {
        const ev = queue.shift()!;
        for (const l of [...listeners]) {
          try {
            l({ ...ev, object: structuredClone(ev.object), old: ev.old && structuredClone(ev.old) });
          } catch {
            // A failing subscriber must not break the write that triggered it (or the other subscribers).
          }
        }
      }
    } finally {
      draining = false;
    }
  }

  function commit(type: StoreEventType, key: ResourceKey, obj: KubeObject, old?: KubeObject): KubeObject {
    const r = types.get(key)!;
    rv++;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(rv);
    const k = itemKey(stored.metadata.namespace, stored.metadata.name!);
    if (type === 'DELETED') {
      buckets.get(key)!.delete(k);
      byUid.delete(stored.metadata.uid!);
      onRemoved(r, stored);
    } else {
      buckets.get(key)!.set(k, stored);
      byUid.set(stored.metadata.uid!, { key, ns: stored.metadata.namespace ?? '', name: stored.metadata.name! });
    }
    queue.push({ type, key, resource: r, object: stored, old });
    drain();
    // The GC / namespace pass only has work after removals, pending deletions, dangling owner references, or while a
    // namespace terminates; skipping it otherwise keeps status-heavy workloads cheap.
    if (
      type === 'DELETED' ||
      stored.metadata.deletionTimestamp ||
      (stored.metadata.ownerReferences ?? []).some((ref) => !byUid.has(ref.uid)) ||
      [...buckets.get('namespaces')!.values()].some((n) => n.metadata.deletionTimestamp)
    ) {
      scheduleMaintenance();
    }
    return structuredClone(stored);
  }

  function onRemoved(r: ResourceType, obj: KubeObject): void {
    if (r.resource === 'services' && !r.group) {
      for (const ip of obj.spec?.clusterIPs ?? [obj.spec?.clusterIP]) if (ip) allocatedIPs.delete(ip);
      for (const p of obj.spec?.ports ?? []) if (p?.nodePort) allocatedNodePorts.delete(p.nodePort);
    }
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Helpers

  function generateName(prefix: string): string {
    const p = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
    let s = '';
    for (let i = 0; i < 5; i++) s += NAME_ALPHABET[Math.floor(random() * NAME_ALPHABET.length)];
    return p + s;
  }

  function allocateIP(): string {
    // 10.96.0.0/12: 10.96.0.0 – 10.111.255.255; .0.1 is the `kubernetes` Service.
    for (;;) {
      const n = Math.floor(random() * (1 << 20));
      const ip = `10.${96 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
      if (!allocatedIPs.has(ip) && (n & 255) !== 255) {
        allocatedIPs.add(ip);
        return ip;
      }
    }
  }

  function allocateNodePort(): number {
    for (;;) {
      const p = 30000 + Math.floor(random() * 2768);
      if (!allocatedNodePorts.has(p)) {
        allocatedNodePorts.add(p);
        return p;
      }
    }
  }

  function inServiceRange(ip: string): boolean {
    const m = ip.match(/^10\.(\d+)\.(\d+)\.(\d+)$/);
    return !!m && +m[1] >= 96 && +m[1] <= 111 && +m[2] <= 255 && +m[3] <= 255;
  }

  function scopeOf(r: ResourceType, subresource?: string): OwnershipScope {
    if (subresource === 'status') return 'status';
    return hasStatusSubresource(r) ? 'main' : 'all';
  }

  function stripTimes(o: KubeObject): KubeObject {
    const c = structuredClone(o);
    for (const e of c.metadata.managedFields ?? []) delete e.time;
    return c;
  }

  function checkNamespace(r: ResourceType, ns: string | undefined, name: string): void {
    if (!r.namespaced) return;
    if (!ns) throw badRequest('the server could not find the requested resource: a namespace is required');
    const nsObj = buckets.get('namespaces')!.get(itemKey(undefined, ns));
    if (!nsObj) throw notFound({ group: '', resource: 'namespaces' }, ns);
    if (nsObj.metadata.deletionTimestamp || nsObj.status?.phase === 'Terminating') throw namespaceTerminating(gr(r), name, ns);
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Create

  function createInternal(
    key: ResourceKey,
    ns: string | undefined,
    input: KubeObject,
    wopts: WriteOptions,
    managedFields?: ManagedFieldsEntry[],
  ): KubeObject {
    const r = resourceFor(key);
    if (!isPlainObject(input)) throw badRequest('Object in body is not a valid object');
    const obj = structuredClone(input);
    obj.metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
    if (r.namespaced) {
      if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      ns = ns ?? obj.metadata.namespace;
      obj.metadata.namespace = ns;
    } else {
      ns = undefined;
      delete obj.metadata.namespace;
    }
    obj.apiVersion = apiVersionOf(r);
    obj.kind = r.kind;
    const m = obj.metadata;
    for (const f of ['uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'creationTimestamp', 'selfLink']) delete (m as Record<string, unknown>)[f];
    if (!m.name && m.generateName) {
      for (let i = 0; i < 20; i++) {
        m.name = generateName(m.generateName);
        if (!buckets.get(key)!.has(itemKey(ns, m.name))) break;
      }
    }
    checkNamespace(r, ns, m.name ?? '');
    if (m.name && buckets.get(key)!.has(itemKey(ns, m.name))) throw alreadyExists(gr(r), m.name);
    m.uid = randomUUID();
    m.creationTimestamp = ts(now());
    if (hasGeneration(r)) m.generation = 1;
    delete m.managedFields;

    // PrepareForCreate: status is the server's (cleared), except Pods/Namespaces get their initial phase.
    switch (keyOfType(r)) {
      case 'pods':
        obj.status = { phase: 'Pending', qosClass: qosClass(obj.spec) };
        break;
      case 'namespaces':
        obj.status = { phase: 'Active' };
        obj.spec = { ...(obj.spec ?? {}), finalizers: [NAMESPACE_FINALIZER] };
        break;
      case 'nodes':
        break;
      default:
        if (hasStatusSubresource(r)) delete obj.status;
    }
    if (key === 'batch/jobs') generateJobSelector(obj);
    applyDefaults(r, obj);
    if (key === 'pods') {
      obj.status.qosClass = qosClass(obj.spec);
      const sa = obj.spec?.serviceAccountName;
      const account = sa ? buckets.get('serviceaccounts')!.get(itemKey(ns, sa)) : undefined;
      if (sa && !account) {
        throw forbidden(gr(r), m.name ?? '', `error looking up service account ${ns}/${sa}: serviceaccount "${sa}" not found`);
      }
      // ServiceAccount admission: a pod that names no pull secrets gets its ServiceAccount's.
      const saPullSecrets = (account as KubeObject | undefined)?.imagePullSecrets;
      if (!obj.spec.imagePullSecrets?.length && Array.isArray(saPullSecrets) && saPullSecrets.length > 0) obj.spec.imagePullSecrets = structuredClone(saPullSecrets);
    }
    validate(r, obj);
    if (key === 'services') allocateServiceAddresses(obj, undefined, !!wopts.dryRun);

    const manager = wopts.fieldManager || defaultManager;
    m.managedFields = managedFields ?? recordUpdate(undefined, obj, manager, apiVersionOf(r), scopeOf(r), undefined);
    if (!m.managedFields.length) delete m.managedFields;
    if (wopts.dryRun) return structuredClone(obj);
    const created = commit('ADDED', key, obj);
    if (key === 'namespaces') ensureNamespaceContent(created.metadata.name!);
    return created;
  }

  function allocateServiceAddresses(obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): void {
    const spec = obj.spec;
    if (!isPlainObject(spec)) return;
    if (spec.type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
      return;
    }
    if (old?.spec?.clusterIP && !spec.clusterIP) {
      // PatchAllocatedValues: an update that omits the allocated values keeps them.
      spec.clusterIP = old.spec.clusterIP;
      spec.clusterIPs = old.spec.clusterIPs;
    }
    if (!old) {
      if (spec.clusterIP && spec.clusterIP !== 'None') {
        if (!inServiceRange(spec.clusterIP)) {
          throw invalid({ group: '', kind: 'Service' }, obj.metadata.name!, [
            { type: 'FieldValueInvalid', field: 'spec.clusterIPs', body: `Invalid value: []string{${JSON.stringify(spec.clusterIP)}}: failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is 10.96.0.0/12` },
          ]);
        }
        if (allocatedIPs.has(spec.clusterIP)) {
          throw invalid({ group: '', kind: 'Service' }, obj.metadata.name!, [
            { type: 'FieldValueInvalid', field: 'spec.clusterIPs', body: `Invalid value: []string{${JSON.stringify(spec.clusterIP)}}: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` },
          ]);
        }
        if (!dryRun) allocatedIPs.add(spec.clusterIP);
      } else if (!spec.clusterIP) {
        spec.clusterIP = dryRun ? '10.96.0.0' : allocateIP();
      }
      spec.clusterIPs = [spec.clusterIP];
    }
    spec.clusterIPs ??= [spec.clusterIP];
    if (spec.clusterIP !== 'None') {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    } else {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      for (const p of spec.ports ?? []) {
        if (!isPlainObject(p) || p.nodePort) continue;
        const prev = (old?.spec?.ports ?? []).find((q: any) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        p.nodePort = prev?.nodePort ?? (dryRun ? 30000 : allocateNodePort());
      }
    }
  }

  function ensureNamespaceContent(ns: string): void {
    const nsObj = buckets.get('namespaces')!.get(itemKey(undefined, ns));
    if (!nsObj || nsObj.metadata.deletionTimestamp) return;
    // The ServiceAccount controller and the root-CA publisher (kube-controller-manager) do this upstream.
    if (!buckets.get('serviceaccounts')!.has(itemKey(ns, 'default'))) {
      createInternal('serviceaccounts', ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }, { fieldManager: 'kube-controller-manager' });
    }
    if (!buckets.get('configmaps')!.has(itemKey(ns, 'kube-root-ca.crt'))) {
      createInternal(
        'configmaps',
        ns,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } }, data: { 'ca.crt': opts.rootCA ?? PLACEHOLDER_CA } },
        { fieldManager: 'kube-controller-manager' },
      );
    }
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Update

  function updateInternal(
    key: ResourceKey,
    ns: string | undefined,
    name: string,
    input: KubeObject,
    wopts: WriteOptions,
    applied?: ManagedFieldsEntry[],
  ): KubeObject {
    const r = resourceFor(key);
    ns = scopeNs(r, ns);
    const existing = raw(key, ns, name);
    if (!existing) throw notFound(gr(r), name);
    if (!isPlainObject(input)) throw badRequest('Object in body is not a valid object');
    const inMeta = isPlainObject(input.metadata) ? input.metadata : {};
    if (inMeta.name && inMeta.name !== name) {
      throw badRequest(`the name of the object (${inMeta.name}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced && inMeta.namespace && inMeta.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (inMeta.resourceVersion && inMeta.resourceVersion !== existing.metadata.resourceVersion) throw conflict(gr(r), name);

    const sub = wopts.subresource;
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
      obj.spec.replicas = input.spec?.replicas;
    } else {
      obj = structuredClone(input);
      if (hasStatusSubresource(r)) {
        obj.status = structuredClone(existing.status);
        if (existing.status === undefined) delete obj.status;
      }
      if (key === 'namespaces') obj.spec = { ...(obj.spec ?? {}), finalizers: existing.spec?.finalizers };
    }
    obj.apiVersion = apiVersionOf(r);
    obj.kind = r.kind;
    obj.metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
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

    applyDefaults(r, obj);
    if (key === 'services') allocateServiceAddresses(obj, existing, !!wopts.dryRun);
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

    const manager = wopts.fieldManager || defaultManager;
    const base = requestedMF ? { ...existing, metadata: { ...existing.metadata, managedFields: requestedMF.filter((e) => e && e.manager) } } : existing;
    m.managedFields = applied ?? recordUpdate(base, obj, manager, apiVersionOf(r), scopeOf(r, sub), sub === 'status' ? 'status' : sub === 'scale' ? 'scale' : undefined);
    if (!m.managedFields.length) delete m.managedFields;

    // A write that changes nothing (timestamps of managedFields aside) is not a write: same resourceVersion, no event.
    if (deepEqual(stripTimes(obj), stripTimes(existing))) return structuredClone(existing);
    if (wopts.dryRun) return structuredClone(obj);

    // ShouldDeleteDuringUpdate: the last finalizer went away from an object whose deletion was already decided.
    if (m.deletionTimestamp && !(m.finalizers ?? []).length && (m.deletionGracePeriodSeconds ?? 0) === 0 && key !== 'namespaces') {
      commit('DELETED', key, obj, existing);
      return structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } });
    }
    return commit('MODIFIED', key, obj, existing);
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Patch

  function patchInternal(key: ResourceKey, ns: string | undefined, name: string, type: PatchType, body: unknown, popts: PatchOptions): KubeObject {
    const r = resourceFor(key);
    ns = scopeNs(r, ns);
    let patch = body;
    if (typeof patch === 'string') {
      try {
        patch = JSON.parse(patch);
      } catch (e) {
        throw badRequest(`error decoding patch: ${(e as Error).message}`);
      }
    }
    if (type !== 'apply' && popts.force !== undefined) {
      throw invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [field.forbidden('force', 'may not be specified for non-apply patch')]);
    }
    if (type === 'apply') return applyInternal(r, key, ns, name, patch, popts);
    const existing = raw(key, ns, name);
    if (!existing) throw notFound(gr(r), name);
    const current = structuredClone(existing);
    let patched: unknown;
    switch (type) {
      case 'json':
        patched = jsonPatch(current, patch);
        break;
      case 'merge':
        if (!isPlainObject(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
        patched = mergePatch(current, patch);
        break;
      case 'strategic':
        if (!isPlainObject(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
        patched = strategicMerge(current, patch);
        break;
      default:
        throw badRequest(`unsupported patch type ${String(type)}`);
    }
    if (!isPlainObject(patched)) throw badRequest('the patch did not produce an object');
    const p = patched as KubeObject;
    // A patch without metadata.resourceVersion applies to the latest object; one carrying a different one conflicts.
    return updateInternal(key, ns, name, p, popts);
  }

  function applyInternal(r: ResourceType, key: ResourceKey, ns: string | undefined, name: string, patch: unknown, popts: PatchOptions): KubeObject {
    const manager = popts.fieldManager;
    if (!manager) {
      throw invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [field.required('fieldManager', 'is required for apply patch')]);
    }
    if (!isPlainObject(patch)) throw badRequest('error decoding YAML: the apply patch must be an object');
    const applied = structuredClone(patch) as KubeObject;
    const want = apiVersionOf(r);
    if (applied.apiVersion !== want || (applied.kind && applied.kind !== r.kind)) {
      throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${applied.apiVersion ?? ''}, expected: ${want}`);
    }
    applied.kind = r.kind;
    applied.metadata = isPlainObject(applied.metadata) ? applied.metadata : {};
    if (applied.metadata.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
    if (applied.metadata.name && applied.metadata.name !== name) {
      throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced && applied.metadata.namespace && applied.metadata.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const existing = raw(key, ns, name);
    const sub = popts.subresource === 'status' ? 'status' : undefined;
    const scope = scopeOf(r, sub);
    if (!existing) {
      if (sub) throw notFound(gr(r), name);
      const res = applyConfig(undefined, applied, manager, want, !!popts.force, scope);
      res.object.metadata.name = name;
      return createInternal(key, ns, res.object, { ...popts, fieldManager: manager }, res.managedFields);
    }
    const res = applyConfig(existing, applied, manager, want, !!popts.force, scope, sub);
    return updateInternal(key, ns, name, res.object, { ...popts, fieldManager: manager }, res.managedFields);
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Delete

  function deleteInternal(key: ResourceKey, ns: string | undefined, name: string, dopts: DeleteOptions): KubeObject | undefined {
    const r = resourceFor(key);
    ns = scopeNs(r, ns);
    const existing = raw(key, ns, name);
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

    if (key === 'namespaces') {
      // K pkg/registry/core/namespace/storage/storage.go Delete + the lifecycle admission plugin.
      if (IMMORTAL_NAMESPACES.has(name)) throw forbidden(gr(r), name, 'this namespace may not be deleted');
      if (m.deletionTimestamp) {
        throw conflict(gr(r), name, 'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.');
      }
      if (!(obj.spec?.finalizers ?? []).length && !(m.finalizers ?? []).length) {
        if (dopts.dryRun) return undefined;
        commit('DELETED', key, obj, existing);
        return undefined;
      }
      m.deletionTimestamp = ts(now());
      m.deletionGracePeriodSeconds = 0;
      obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
      if (dopts.dryRun) return obj;
      return commit('MODIFIED', key, obj, existing);
    }

    // The policy: explicit, else the kind's default (batch/v1 Jobs orphan: K pkg/registry/batch/job/strategy.go
    // DefaultGarbageCollectionPolicy; apps/v1 and everything else delete dependents in the background).
    const policy = dopts.propagationPolicy ?? (key === 'batch/jobs' ? 'Orphan' : 'Background');
    const gcFinalizer = policy === 'Orphan' ? 'orphan' : policy === 'Foreground' ? 'foregroundDeletion' : undefined;

    if (key === 'pods') {
      // Graceful deletion (K pkg/registry/core/pod/strategy.go CheckGracefulDelete): unscheduled or terminal pods
      // go at once; others get deletionTimestamp = now + grace and stay until the kubelet confirms with grace 0.
      let grace = dopts.gracePeriodSeconds ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
      if (!obj.spec?.nodeName || obj.status?.phase === 'Succeeded' || obj.status?.phase === 'Failed') grace = 0;
      if (grace < 0) grace = 0;
      if (m.deletionTimestamp && m.deletionGracePeriodSeconds !== undefined && grace >= m.deletionGracePeriodSeconds) {
        return structuredClone(existing); // already deleting with an equal or shorter grace period
      }
      if (grace > 0) {
        m.deletionTimestamp = ts(new Date(now().getTime() + grace * 1000));
        m.deletionGracePeriodSeconds = grace;
        if (gcFinalizer && !(m.finalizers ?? []).includes(gcFinalizer)) m.finalizers = [...(m.finalizers ?? []), gcFinalizer];
        if (dopts.dryRun) return obj;
        return commit('MODIFIED', key, obj, existing);
      }
    }

    const finalizers = [...(m.finalizers ?? [])];
    if (gcFinalizer && !m.deletionTimestamp && !finalizers.includes(gcFinalizer)) finalizers.push(gcFinalizer);
    if (finalizers.length) {
      const already = !!m.deletionTimestamp && m.deletionGracePeriodSeconds === 0 && deepEqual(finalizers, m.finalizers ?? []);
      if (already) return structuredClone(existing);
      m.deletionTimestamp ??= ts(now());
      m.deletionGracePeriodSeconds = 0;
      m.finalizers = finalizers;
      if (dopts.dryRun) return obj;
      return commit('MODIFIED', key, obj, existing);
    }
    if (dopts.dryRun) return undefined;
    commit('DELETED', key, obj, existing);
    return undefined;
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Garbage collector + namespace controller (asynchronous, like their upstream counterparts)

  let maintenanceTimer: NodeJS.Timeout | undefined;
  let settleWaiters: (() => void)[] = [];

  function scheduleMaintenance(): void {
    if (maintenanceTimer) return;
    maintenanceTimer = setTimeout(() => {
      maintenanceTimer = undefined;
      try {
        maintenance();
      } finally {
        if (!maintenanceTimer) {
          const w = settleWaiters;
          settleWaiters = [];
          for (const f of w) f();
        }
      }
    }, gcDelay);
    maintenanceTimer.unref?.();
  }

  const internalOpts = { fieldManager: 'kube-controller-manager' };

  function safe(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
    }
  }

  function allObjects(): { key: ResourceKey; obj: KubeObject }[] {
    const out: { key: ResourceKey; obj: KubeObject }[] = [];
    for (const [key, b] of buckets) for (const o of b.values()) out.push({ key, obj: o });
    return out;
  }

  function maintenance(): void {
    const all = allObjects();
    const dependentsOf = (uid: string) => all.filter((x) => (x.obj.metadata.ownerReferences ?? []).some((ref) => ref.uid === uid));

    for (const { key, obj } of all) {
      const m = obj.metadata;
      const ns = m.namespace;
      if (!m.deletionTimestamp) continue;
      if ((m.finalizers ?? []).includes('orphan')) {
        // Orphan: dependents lose their ownerReference to this owner, then the finalizer goes.
        for (const d of dependentsOf(m.uid!)) {
          safe(() => {
            const cur = raw(d.key, d.obj.metadata.namespace, d.obj.metadata.name!);
            if (!cur) return;
            const c = structuredClone(cur);
            c.metadata.ownerReferences = (c.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== m.uid);
            updateInternal(d.key, cur.metadata.namespace, cur.metadata.name!, c, internalOpts);
          });
        }
        safe(() => removeFinalizer(key, ns, m.name!, 'orphan'));
      } else if ((m.finalizers ?? []).includes('foregroundDeletion')) {
        const deps = dependentsOf(m.uid!);
        for (const d of deps) {
          if (d.obj.metadata.deletionTimestamp) continue;
          const ref = d.obj.metadata.ownerReferences!.find((x) => x.uid === m.uid)!;
          safe(() => deleteInternal(d.key, d.obj.metadata.namespace, d.obj.metadata.name!, { propagationPolicy: ref.blockOwnerDeletion ? 'Foreground' : 'Background' }));
        }
        const blocking = dependentsOf(m.uid!).filter((d) => raw(d.key, d.obj.metadata.namespace, d.obj.metadata.name!) && d.obj.metadata.ownerReferences!.some((x) => x.uid === m.uid && x.blockOwnerDeletion));
        if (!blocking.length) safe(() => removeFinalizer(key, ns, m.name!, 'foregroundDeletion'));
      }
    }

    // Dependents whose owners are all gone are deleted (Background), as the GC's attemptToDeleteItem does.
    for (const { key, obj } of allObjects()) {
      const refs = obj.metadata.ownerReferences ?? [];
      if (!refs.length || obj.metadata.deletionTimestamp) continue;
      if (refs.every((ref) => !byUid.has(ref.uid))) {
        safe(() => deleteInternal(key, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: 'Background' }));
      }
    }

    // Namespace controller: empty a Terminating namespace, then finalize and remove it.
    for (const nsObj of [...buckets.get('namespaces')!.values()]) {
      if (!nsObj.metadata.deletionTimestamp) continue;
      const ns = nsObj.metadata.name!;
      let remaining = 0;
      for (const [key, b] of buckets) {
        const r = types.get(key)!;
        if (!r.namespaced) continue;
        for (const o of [...b.values()]) {
          if (o.metadata.namespace !== ns) continue;
          remaining++;
          if (!o.metadata.deletionTimestamp) safe(() => deleteInternal(key, ns, o.metadata.name!, { propagationPolicy: 'Background' }));
        }
      }
      if (remaining > 0) {
        const counts = new Map<string, number>();
        const finalizers = new Map<string, number>();
        for (const [key, b] of buckets) {
          const r = types.get(key)!;
          if (!r.namespaced) continue;
          for (const o of b.values()) {
            if (o.metadata.namespace !== ns) continue;
            const gr = `${r.resource}.${r.group}`;
            counts.set(gr, (counts.get(gr) ?? 0) + 1);
            for (const f of o.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
          }
        }
        if (counts.size > 0) {
          safe(() => reportNamespaceConditions(ns, counts, finalizers));
          continue;
        }
      }
      safe(() => {
        const cur = raw('namespaces', undefined, ns);
        if (!cur) return;
        if ((cur.spec?.finalizers ?? []).includes(NAMESPACE_FINALIZER)) {
          updateInternal('namespaces', undefined, ns, { ...cur, spec: { ...cur.spec, finalizers: cur.spec.finalizers.filter((f: string) => f !== NAMESPACE_FINALIZER) } }, { fieldManager: 'kube-controller-manager', subresource: 'finalize' });
        }
        const after = raw('namespaces', undefined, ns);
        if (after && !(after.spec?.finalizers ?? []).length && !(after.metadata.finalizers ?? []).length) commit('DELETED', 'namespaces', after, after);
      });
    }
  }

  /** The namespace controller's status conditions while content remains (K pkg/controller/namespace/deletion). */
  function reportNamespaceConditions(ns: string, counts: Map<string, number>, finalizers: Map<string, number>): void {
    const cur = raw('namespaces', undefined, ns);
    if (!cur) return;
    const old: any[] = cur.status?.conditions ?? [];
    const cond = (type: string, status: string, reason: string, message: string) => {
      const prev = old.find((c) => c.type === type);
      const lastTransitionTime = prev && prev.status === status ? prev.lastTransitionTime : ts(now());
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
    updateInternal('namespaces', undefined, ns, { ...cur, status: { ...cur.status, conditions } }, { fieldManager: 'kube-controller-manager', subresource: 'status' });
  }

  function removeFinalizer(key: ResourceKey, ns: string | undefined, name: string, fin: string): void {
    const cur = raw(key, ns, name);
    if (!cur) return;
    const c = structuredClone(cur);
    c.metadata.finalizers = (c.metadata.finalizers ?? []).filter((f) => f !== fin);
    updateInternal(key, ns, name, c, internalOpts);
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Bootstrap: the namespaces and the `kubernetes` Service a fresh cluster has.

  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    createInternal('namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { fieldManager: 'kube-apiserver' });
  }
  createInternal(
    'services',
    'default',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: KUBERNETES_SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    },
    { fieldManager: 'kube-apiserver' },
  );

  // The ServiceAccount controller recreates a deleted `default` ServiceAccount in a live namespace.
  listeners.add((ev) => {
    if (ev.type === 'DELETED' && ev.key === 'serviceaccounts' && ev.object.metadata.name === 'default') {
      setTimeout(() => safe(() => ensureNamespaceContent(ev.object.metadata.namespace!)), gcDelay).unref?.();
    }
  });

  // ----------------------------------------------------------------------------------------------------------------
  // The contract

  const store: SandboxStore = {
    resources: RESOURCE_TYPES,
    resourceFor,
    lookup(group, version, resource) {
      const r = types.get(group ? `${group}/${resource}` : resource);
      return r && r.version === version ? r : undefined;
    },
    resourceVersion: () => String(rv),
    create(key, namespace, obj, wopts = {}) {
      return createInternal(key, namespace, obj, wopts);
    },
    get(key, namespace, name) {
      const r = resourceFor(key);
      const o = raw(key, namespace, name);
      if (!o) throw notFound(gr(r), name);
      return structuredClone(o);
    },
    find(key, namespace, name) {
      const o = raw(key, namespace, name);
      return o && structuredClone(o);
    },
    list(key, namespace, lopts: ListOptions = {}) {
      const r = resourceFor(key);
      const filter = compileFilter(r, lopts.labelSelector, lopts.fieldSelector);
      const items: KubeObject[] = [];
      const ns = scopeNs(r, namespace);
      for (const o of buckets.get(key)!.values()) {
        if (ns && o.metadata.namespace !== ns) continue;
        if (filterMatches(filter, r, o)) items.push(structuredClone(o));
      }
      items.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name!.localeCompare(b.metadata.name!));
      return { items, resourceVersion: String(rv) };
    },
    update(key, namespace, name, obj, wopts = {}) {
      return updateInternal(key, namespace, name, obj, wopts);
    },
    patch(key, namespace, name, type, patch, popts = {}) {
      return patchInternal(key, namespace, name, type, patch, popts);
    },
    delete(key, namespace, name, dopts = {}) {
      return deleteInternal(key, namespace, name, dopts);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    settle() {
      if (!maintenanceTimer) return Promise.resolve();
      return new Promise((res) => settleWaiters.push(res));
    },
  };
  return store;
}
