/** What KubeClient's calls take and return (client.ts): kinds by name, call options, lists. */
import type { KubernetesObject } from '@kubernetes/client-node';

/** Any object to send: apiVersion, kind, metadata and whatever else its kind has. */
export type Manifest = KubernetesObject & { [field: string]: unknown };

/** `apiVersion` + `kind` of a resource type, or the kind alone for the types the engine deploys. */
export type KindRef = string | { apiVersion: string; kind: string };

/** API versions of the kinds the engine uses, so callers can say `'Job'`. */
export const KNOWN_KINDS: Readonly<Record<string, string>> = {
  Namespace: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  ServiceAccount: 'v1',
  Pod: 'v1',
  Event: 'v1',
  Endpoints: 'v1',
  PersistentVolumeClaim: 'v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  Ingress: 'networking.k8s.io/v1',
  IngressClass: 'networking.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  Lease: 'coordination.k8s.io/v1',
};

/** Resolves a `KindRef` to apiVersion + kind. */
export function resolveKind(ref: KindRef): { apiVersion: string; kind: string } {
  if (typeof ref !== 'string') return ref;
  const apiVersion = KNOWN_KINDS[ref];
  if (!apiVersion) throw new Error(`unknown kind '${ref}': pass { apiVersion, kind }`);
  return { apiVersion, kind: ref };
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
