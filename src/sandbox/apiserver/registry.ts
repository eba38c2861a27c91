/**
 * The in-memory registry: the API server's storage with Kubernetes semantics (AS pkg/registry/generic/registry/store.go
 * plus the per-kind strategies). Synchronous; every committed change gets the next value of one global
 * resourceVersion counter and is delivered to subscribers after the commit, in commit order.
 *
 * Layout, as upstream's: store/storage.ts keeps objects and resourceVersions (etcd's part), store/{create,update,
 * patch,delete}.ts are the generic write paths, strategy.ts and strategy/ the per-kind rules (defaults, validation,
 * pod binding, scale). What kube-controller-manager does upstream (garbage collection, the namespace lifecycle's
 * content deletion, the `default` ServiceAccount and `kube-root-ca.crt` of every namespace) is in ../controllers/.
 */
import type { ClusterStore, KubeObject, ListOptions, ResourceKey, ResourceType, StoreEvent } from '../types.js';
import { notFound } from '../machinery/errors.js';
import { RESOURCE_TYPES } from './resources.js';
import { compileFilter, filterMatches } from './selectors.js';
import { ServiceAddresses } from './strategy/service-ips.js';
import { bindPod } from './strategy/pods.js';
import type { RegistryContext } from './store/context.js';
import { createObject } from './store/create.js';
import { deleteObject } from './store/delete.js';
import { patchObject } from './store/patch.js';
import { Storage, gr, scopeNs } from './store/storage.js';
import { updateObject } from './store/update.js';

export interface ClusterStoreOptions {
  /** Clock for timestamps (default: the system clock). */
  now?: () => Date;
  /** Random source for generated names, cluster IPs and node ports (default Math.random). */
  random?: () => number;
  /** Field manager for in-process writes that name none (default `sandbox`). */
  defaultFieldManager?: string;
  /** Hears of a subscriber that threw on a committed change (default: said on stderr with its stack). */
  onSubscriberError?: (error: unknown, event: StoreEvent) => void;
}

function reportSubscriberError(error: unknown, e: StoreEvent): void {
  const what = `${e.type} ${e.key} ${e.object.metadata.namespace ? `${e.object.metadata.namespace}/` : ''}${e.object.metadata.name}`;
  console.error(`sandbox: a subscriber of the store failed on ${what}:`, error);
}

/** The registry plus what the HTTP layer needs beyond the shared contract. */
export interface SandboxStore extends ClusterStore {
  /** The current global resourceVersion (what a list would report). */
  resourceVersion(): string;
  /** Resolves a URL's group/version/plural to a served type. */
  lookup(group: string, version: string, resource: string): ResourceType | undefined;
}

/** Kinds whose DELETE returns the object instead of a Status (registries with ReturnDeletedObject). */
export const RETURNS_DELETED_OBJECT = new Set(['pods', 'services', 'serviceaccounts', 'namespaces', 'nodes']);

/** The `kubernetes` Service's cluster IP (the first of the service range, as upstream's). */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

export function createClusterStore(opts: ClusterStoreOptions = {}): SandboxStore {
  const addresses = new ServiceAddresses(opts.random ?? Math.random);
  const storage = new Storage((r, obj) => addresses.release(r, obj), opts.onSubscriberError ?? reportSubscriberError);
  const c: RegistryContext = {
    storage,
    now: opts.now ?? (() => new Date()),
    random: opts.random ?? Math.random,
    defaultManager: opts.defaultFieldManager ?? 'sandbox',
    addresses,
  };
  bootstrap(c);

  const store: SandboxStore = {
    resources: RESOURCE_TYPES,
    resourceFor: (key) => storage.resourceFor(key),
    lookup(group, version, resource) {
      const r = storage.types.get(group ? `${group}/${resource}` : resource);
      return r && r.version === version ? r : undefined;
    },
    resourceVersion: () => String(storage.resourceVersion),
    create(key, namespace, obj, wopts = {}) {
      // pods/binding is a create on the subresource, named by the Binding (as BindingREST.Create reads it).
      if (key === 'pods' && wopts.subresource === 'binding') return bindPod(store, namespace, obj?.metadata?.name ?? '', obj, wopts);
      return createObject(c, key, namespace, obj, wopts);
    },
    get(key, namespace, name) {
      const r = storage.resourceFor(key);
      const o = storage.raw(key, namespace, name);
      if (!o) throw notFound(gr(r), name);
      return structuredClone(o);
    },
    find(key, namespace, name) {
      const o = storage.raw(key, namespace, name);
      return o && structuredClone(o);
    },
    list(key, namespace, lopts: ListOptions = {}) {
      return { items: selected(storage, key, namespace, lopts).map((o) => structuredClone(o)), resourceVersion: String(storage.resourceVersion) };
    },
    peek: (key, namespace, name) => storage.raw(key, namespace, name),
    view: (key, namespace, lopts = {}) => selected(storage, key, namespace, lopts),
    update: (key, namespace, name, obj, wopts = {}) => updateObject(c, key, namespace, name, obj, wopts),
    patch: (key, namespace, name, type, patch, popts = {}) => patchObject(c, key, namespace, name, type, patch, popts),
    delete: (key, namespace, name, dopts = {}) => deleteObject(c, key, namespace, name, dopts),
    subscribe: (listener) => storage.subscribe(listener),
  };
  return store;
}

/** The stored objects of `key` in `namespace` (all namespaces when undefined) that the selectors match, by namespace and name. */
function selected(storage: Storage, key: ResourceKey, namespace: string | undefined, lopts: ListOptions): KubeObject[] {
  const r = storage.resourceFor(key);
  const filter = compileFilter(r, lopts.labelSelector, lopts.fieldSelector);
  const items: KubeObject[] = [];
  const ns = scopeNs(r, namespace);
  for (const o of storage.buckets.get(key)!.values()) {
    if (ns && o.metadata.namespace !== ns) continue;
    if (filterMatches(filter, r, o)) items.push(o);
  }
  return items.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name!.localeCompare(b.metadata.name!));
}

/** The namespaces and the `kubernetes` Service a fresh cluster has (the API server's bootstrap controllers upstream). */
function bootstrap(c: RegistryContext): void {
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    createObject(c, 'namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { fieldManager: 'kube-apiserver' });
  }
  createObject(
    c,
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
}
