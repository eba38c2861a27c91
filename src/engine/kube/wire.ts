/**
 * Objects and headers as they come over the wire, for KubeClient (client.ts) and watches (watch.ts): typed models from
 * JSON, the kind list items lack, `Warning` headers, and what a request path names.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
// Not re-exported by the package index; the package has no `exports` map, so the deep import is allowed.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { KNOWN_KINDS } from './client-types.js';
import type { KubeTarget } from './errors.js';

/**
 * The texts of a `Warning` header (RFC 7234 `299 - "text"`, several joined by `, ` when the server sent more than
 * one). Written by hand: it is one regular expression, and no package on hand parses it.
 */
export function parseWarnings(header: string): string[] {
  return [...header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));
}

/** Built-in API groups, whose kinds client-node has typed models for (`V1Job`, …). */
function modelType(apiVersion: string | undefined, kind: string | undefined): string | undefined {
  if (!apiVersion || !kind) return undefined;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group !== '' && !group.endsWith('.k8s.io') && !['apps', 'batch', 'autoscaling', 'policy'].includes(group)) return undefined;
  return version.charAt(0).toUpperCase() + version.slice(1) + kind;
}

/**
 * Turns a JSON object from the wire into client-node's typed model (dates as `Date`, as the typed APIs return),
 * so objects from lists and watches look like objects from `get`.
 */
export function toModel<T>(raw: unknown, apiVersion?: string, kind?: string): T {
  const o = raw as KubernetesObject;
  const type = modelType(o?.apiVersion ?? apiVersion, o?.kind ?? kind);
  const model = type ? ObjectSerializer.deserialize(raw, type) : raw;
  if (model && typeof model === 'object') {
    // List items come without apiVersion/kind; fill them in.
    if (!model.apiVersion && apiVersion) model.apiVersion = apiVersion;
    if (!model.kind && kind) model.kind = kind;
  }
  return model as T;
}

/** A raw wire object with the apiVersion/kind list items lack. */
export function fillKind<T>(raw: unknown, apiVersion?: string, kind?: string): T {
  const o = raw as KubernetesObject;
  if (o && typeof o === 'object') {
    if (!o.apiVersion && apiVersion) o.apiVersion = apiVersion;
    if (!o.kind && kind) o.kind = kind;
  }
  return o as T;
}

/** What an object names, for errors and logs. */
export function targetOf(obj: KubernetesObject): KubeTarget {
  return { kind: obj.kind ?? 'object', namespace: obj.metadata?.namespace, name: obj.metadata?.name };
}

/** `/apis/batch/v1/namespaces/ns/jobs` -> `{ kind: 'jobs', namespace: 'ns' }` (the resource plural stands for the kind). */
export function targetOfPath(path: string): KubeTarget {
  const segs = path.split('?')[0].split('/').filter(Boolean);
  const rest = segs[0] === 'api' ? segs.slice(2) : segs.slice(3);
  if (rest[0] === 'namespaces' && rest.length >= 3) return { kind: kindForResource(rest[2]), namespace: rest[1] };
  return { kind: kindForResource(rest[0] ?? path) };
}

/** `jobs` -> `Job` for the known kinds; other resources keep their plural. */
function kindForResource(resource: string): string {
  return Object.entries(KNOWN_KINDS).find(([, m]) => m.resource === resource)?.[0] ?? resource;
}
