/**
 * Contracts shared by the sandbox's parts: the API server's storage layer (apiserver/),
 * the controllers (controllers/) and the pod runtime (kubelet/).
 *
 * Controllers and the kubelet run in-process and talk to the same registry the HTTP handlers use,
 * so every write from them gets the same defaulting, validation, resourceVersion and watch events
 * as a write from a client — as kube-controller-manager and the kubelet get through the API server.
 */

/** Any Kubernetes object as stored and served (JSON). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: any;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: any[];
}

/** One served resource type (a row of discovery). */
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural, lower-case: 'pods', 'deployments'. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Subresources served, e.g. ['status', 'log'] for pods. */
  subresources: string[];
  verbs: string[];
  /** Discovery categories, e.g. ['all'] (what `kubectl get all` expands). */
  categories?: string[];
}

/** How a resource is addressed inside the sandbox: 'pods', 'apps/deployments', 'batch/jobs'. */
export type ResourceKey = string;

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /**
   * Writes to a subresource: 'status' (spec changes are ignored), 'scale' (update with an autoscaling/v1 Scale: its
   * spec.replicas, and metadata.resourceVersion as a precondition), 'finalize' (namespaces' spec.finalizers),
   * 'binding' (pods: create with a Binding named as the pod, `target.name` the node; answers the bound pod).
   */
  subresource?: string;
}

export interface PatchOptions extends WriteOptions {
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A change in the store, delivered to in-process subscribers (controllers, kubelet) after it is committed. */
/** A committed change, as subscribers hear it: its objects are the stored ones, frozen (clone what you change). */
export interface StoreEvent {
  type: StoreEventType;
  key: ResourceKey;
  resource: ResourceType;
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED). */
  old?: KubeObject;
}

/**
 * The registry: the API server's storage with Kubernetes semantics. Methods throw `StatusError`
 * (machinery/errors.ts) exactly where the REST API would answer with a Status failure.
 */
export interface ClusterStore {
  readonly resources: readonly ResourceType[];
  resourceFor(key: ResourceKey): ResourceType;
  create(key: ResourceKey, namespace: string | undefined, obj: KubeObject, opts?: WriteOptions): KubeObject;
  get(key: ResourceKey, namespace: string | undefined, name: string): KubeObject;
  /** `get` that answers undefined instead of throwing NotFound. */
  find(key: ResourceKey, namespace: string | undefined, name: string): KubeObject | undefined;
  list(key: ResourceKey, namespace: string | undefined, opts?: ListOptions): { items: KubeObject[]; resourceVersion: string };
  /**
   * `find` and `list`'s items without the copies: the stored objects themselves, frozen (changing one throws). For
   * readers that only look, as upstream's controllers read their informers' shared caches; copying every object
   * of a namespace at each sync was the largest part of the sandbox's CPU. Clone what you need to change.
   */
  peek(key: ResourceKey, namespace: string | undefined, name: string): KubeObject | undefined;
  view(key: ResourceKey, namespace: string | undefined, opts?: ListOptions): KubeObject[];
  update(key: ResourceKey, namespace: string | undefined, name: string, obj: KubeObject, opts?: WriteOptions): KubeObject;
  patch(key: ResourceKey, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts?: PatchOptions): KubeObject;
  /**
   * Returns the object as it is after the call (with deletionTimestamp when deletion is pending), or undefined when gone.
   *
   * Deletion semantics (apiserver/store/delete.ts; the garbage collector and namespace controller are in controllers/,
   * started by startControllers):
   * - Objects with `metadata.finalizers` get `deletionTimestamp` (+ `deletionGracePeriodSeconds: 0`) and stay (MODIFIED)
   *   until the last finalizer is removed by an update/patch, which removes them (DELETED). No finalizer may be added then.
   * - `propagationPolicy` (default Background; batch/v1 Jobs default to Orphan): Orphan adds the `orphan` finalizer and
   *   the GC strips this owner's ownerReference from dependents; Foreground adds `foregroundDeletion` and the GC deletes
   *   dependents first (the owner goes when no dependent with `blockOwnerDeletion` remains); Background removes the owner
   *   now and the GC deletes dependents whose owners are all gone. The GC runs asynchronously a few ms after a change.
   * - POD GRACEFUL DELETION (the kubelet's contract): a pod with `spec.nodeName` that is not Succeeded/Failed is not
   *   removed by DELETE: it gets `deletionTimestamp = now + grace` and `deletionGracePeriodSeconds = grace`
   *   (grace = opts.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30), one MODIFIED event, and stays.
   *   The kubelet, seeing a pod of its node with `deletionTimestamp`, stops the containers (SIGTERM, then SIGKILL after
   *   `deletionGracePeriodSeconds`), may write final container states through the status subresource, then confirms
   *   with `store.delete('pods', ns, name, { gracePeriodSeconds: 0, preconditions: { uid } })`, which removes the pod
   *   (DELETED) unless it still has finalizers (then it goes when they are removed). A later DELETE with a shorter grace
   *   period shortens it; a longer one changes nothing. Pods without `spec.nodeName`, or in a terminal phase, are
   *   removed at once.
   * - Namespaces: DELETE sets `deletionTimestamp` and `status.phase: Terminating` (creates inside get 403); the namespace
   *   controller then deletes everything in it (pods gracefully, so the kubelet still confirms), removes the `kubernetes`
   *   finalizer and the namespace. `default`, `kube-system`, `kube-public` cannot be deleted (403).
   */
  delete(key: ResourceKey, namespace: string | undefined, name: string, opts?: DeleteOptions): KubeObject | undefined;
  /** In-process subscription to every committed change, in commit order. Returns an unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
}

/** Records a core/v1 Event, as controllers and the kubelet do (best effort, never throws). */
export interface EventRecorder {
  record(involved: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, source: string): void;
}

/** Query of `GET /api/v1/namespaces/{ns}/pods/{name}/log`. */
export interface PodLogOptions {
  container?: string;
  previous?: boolean;
  follow?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps?: boolean;
  limitBytes?: number;
}

/**
 * Where pod logs come from: implemented by the kubelet (which captures container output),
 * consumed by the API server's `pods/log` handler.
 */
export interface PodLogSource {
  /**
   * Opens a container's log as a stream of UTF-8 text. With `follow`, the stream stays open until the
   * container instance ends (or the caller destroys it). Throws `StatusError` (BadRequest/NotFound)
   * with the API server's wording when the pod, container or previous instance does not exist.
   */
  open(namespace: string, pod: string, opts: PodLogOptions): import('node:stream').Readable;
}
