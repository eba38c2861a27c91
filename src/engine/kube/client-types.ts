/** What KubeClient's calls take and return (client.ts): kinds by name, call options, lists. */
import type { KubernetesObject } from '@kubernetes/client-node';

/** Any object to send: apiVersion, kind, metadata and whatever else its kind has. */
export type Manifest = KubernetesObject & { [field: string]: unknown };

/** `apiVersion` + `kind` of a resource type, or the kind alone for the types the engine deploys. */
export type KindRef = string | { apiVersion: string; kind: string };

/** Where the API serves a kind: its group version, its resource (the plural in its paths) and its scope. */
export interface KindMapping {
  apiVersion: string;
  resource: string;
  namespaced: boolean;
}

const kind = (apiVersion: string, resource: string, namespaced = true): KindMapping => ({ apiVersion, resource, namespaced });

/**
 * The built-in kinds the engine uses, so callers can say `'Job'`, with their paths. Kubernetes fixes these (every one
 * is GA, none changed since 1.22), so a request for one needs no discovery round trip first, as client-go's typed
 * clients name their resources; the discovery of other kinds is fetched as before (object-api.ts).
 * test/sandbox/conformance/kubectl.test.ts checks this table against the cluster's discovery, upstream's included.
 */
export const KNOWN_KINDS: Readonly<Record<string, KindMapping>> = {
  Namespace: kind('v1', 'namespaces', false),
  ConfigMap: kind('v1', 'configmaps'),
  Secret: kind('v1', 'secrets'),
  Service: kind('v1', 'services'),
  ServiceAccount: kind('v1', 'serviceaccounts'),
  Pod: kind('v1', 'pods'),
  Event: kind('v1', 'events'),
  Endpoints: kind('v1', 'endpoints'),
  Job: kind('batch/v1', 'jobs'),
  CronJob: kind('batch/v1', 'cronjobs'),
  Deployment: kind('apps/v1', 'deployments'),
  ReplicaSet: kind('apps/v1', 'replicasets'),
  Ingress: kind('networking.k8s.io/v1', 'ingresses'),
  IngressClass: kind('networking.k8s.io/v1', 'ingressclasses', false),
  Role: kind('rbac.authorization.k8s.io/v1', 'roles'),
  RoleBinding: kind('rbac.authorization.k8s.io/v1', 'rolebindings'),
  ClusterRole: kind('rbac.authorization.k8s.io/v1', 'clusterroles', false),
  ClusterRoleBinding: kind('rbac.authorization.k8s.io/v1', 'clusterrolebindings', false),
  Lease: kind('coordination.k8s.io/v1', 'leases'),
};

/** The mapping of `kindName` when it is a known kind (an own key: not `constructor` and the like). */
export function knownKind(kindName: string): KindMapping | undefined {
  return Object.hasOwn(KNOWN_KINDS, kindName) ? KNOWN_KINDS[kindName] : undefined;
}

/** The mapping of `kindName` in `apiVersion` when it is a known kind in that group version. */
export function knownMapping(apiVersion: string, kindName: string): KindMapping | undefined {
  const mapping = knownKind(kindName);
  return mapping?.apiVersion === apiVersion ? mapping : undefined;
}

/** Resolves a `KindRef` to apiVersion + kind. */
export function resolveKind(ref: KindRef): { apiVersion: string; kind: string } {
  if (typeof ref !== 'string') return ref;
  const mapping = knownKind(ref);
  if (!mapping) throw new Error(`unknown kind '${ref}': pass { apiVersion, kind }`);
  return { apiVersion: mapping.apiVersion, kind: ref };
}

export interface KubeClientOptions {
  /** Retry tuning for every call (attempts default 5, base 250 ms, cap 10 s). */
  retry?: { maxAttempts?: number; baseMs?: number; capMs?: number };
  /** User-Agent (default `bodywork-deploy`); its first word is the field manager of writes that name none. */
  userAgent?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Receives the texts of the server's `Warning` response headers (e.g. Pod Security's `would violate ...`). */
  warnings?: string[];
}

/** Writes that may be dry runs. */
export interface WriteOptions extends CallOptions {
  /**
   * `dryRun=All`: the server runs defaulting, validation and admission (quotas, Pod Security, webhooks) and answers
   * with the object it would store, storing nothing.
   */
  dryRun?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  /** Field manager of the server-side apply (default `bodywork-deploy`). */
  fieldManager?: string;
  /** Take over fields owned by other managers (default true). */
  force?: boolean;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

/** `listPath` only: `raw` keeps items as JSON from the wire (no typed models: unknown fields kept, times as strings). */
export interface ListPathOptions extends ListOptions {
  raw?: boolean;
}

export interface DeleteOptions extends CallOptions {
  /** Default `Background`: batch/v1 Jobs would orphan their pods otherwise. */
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  /** Delete only this version of the object (a 409 Conflict when it changed since). */
  resourceVersion?: string;
}

/** A list as the API returns it: items plus the collection's resourceVersion. */
export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
}
