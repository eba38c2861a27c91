/**
 * Field paths and field sets, as structured-merge-diff's fieldpath package has them: `f:spec`, `f:replicas`,
 * `k:{"name":"web"}` for keyed list items, `v:"x"` for set members, `.` for the node itself; a set encoded as FieldsV1.
 * What the managed fields (fields.ts) are made of.
 */
import type { KubeObject } from '../types.js';
import { deepEqual, isPlainObject, itemKey, listSchema } from './patch.js';

export type FieldPath = string[];
export type FieldSet = Set<string>;

/** Which part of the object a write may own: main resource (no status when the type has a status subresource), status subresource, or all. */
export type OwnershipScope = 'main' | 'status' | 'all';

/** Metadata fields the server owns; never part of a manager's set (upstream strips them the same way). */
export const STRIPPED_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

/** Map-typed fields whose node itself is recorded (`.`), as structured-merge-diff does for maps. */
const MAP_FIELDS = new Set(['labels', 'annotations', 'matchLabels', 'nodeSelector', 'data', 'binaryData', 'limits', 'requests']);

/**
 * Atomic structs/maps (owned and replaced whole by apply): metav1.LabelSelector is `+structType=atomic`, Service
 * `spec.selector` and PodSpec `nodeSelector` are `+mapType=atomic`.
 */
export const ATOMIC_FIELDS = new Set(['selector', 'nodeSelector', 'labelSelector', 'namespaceSelector']);

/** A path as a member of a FieldSet, and back. */
export const encodePath = (p: FieldPath): string => JSON.stringify(p);
export const decodePath = (s: string): FieldPath => JSON.parse(s) as FieldPath;

/**
 * The paths of an object's fields (leaves, keyed-list items and map nodes).
 * `mapNodes`: record map nodes (`.`), as structured-merge-diff does for the fields an Update changed; an applied
 * configuration's set holds its leaves and keyed-list items only (upstream: `{"f:data":{"f:x":{}}}` for an apply,
 * `{"f:data":{".":{},"f:x":{}}}` for a create), so a manager that loses its last leaf to a forced apply is dropped.
 */
export function fieldSetOf(obj: KubeObject | Record<string, any>, scope: OwnershipScope, mapNodes = true): FieldSet {
  const out: FieldSet = new Set();
  const walk = (v: unknown, path: FieldPath, names: string[]) => walkFields(v, path, names, out, mapNodes);
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || v === undefined) continue;
    if (scope === 'main' && k === 'status') continue;
    if (scope === 'status' && k !== 'status' && k !== 'metadata') continue;
    if (k === 'metadata' && isPlainObject(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (STRIPPED_META.has(mk) || mv === undefined) continue;
        walk(mv, ['f:metadata', `f:${mk}`], ['metadata', mk]);
      }
      continue;
    }
    walk(v, [`f:${k}`], [k]);
  }
  return out;
}

function walkFields(v: unknown, path: FieldPath, names: string[], out: FieldSet, mapNodes: boolean): void {
  if (isPlainObject(v) && ATOMIC_FIELDS.has(names[names.length - 1])) {
    out.add(encodePath(path));
    return;
  }
  if (isPlainObject(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) {
      out.add(encodePath(path));
      return;
    }
    if (mapNodes && MAP_FIELDS.has(names[names.length - 1])) out.add(encodePath([...path, '.']));
    for (const [k, x] of entries) walkFields(x, [...path, `f:${k}`], [...names, k], out, mapNodes);
    return;
  }
  if (Array.isArray(v) && v.length > 0) {
    const schema = listSchema(names);
    if (schema.type === 'map') {
      for (const item of v) {
        const ip = [...path, `k:${JSON.stringify(itemKey(item, schema.keys))}`];
        out.add(encodePath([...ip, '.']));
        if (isPlainObject(item)) for (const [k, x] of Object.entries(item)) if (x !== undefined) walkFields(x, [...ip, `f:${k}`], [...names, k], out, mapNodes);
      }
      return;
    }
    if (schema.type === 'set') {
      for (const item of v) out.add(encodePath([...path, `v:${JSON.stringify(item)}`]));
      return;
    }
  }
  out.add(encodePath(path));
}

/** FieldsV1 JSON tree from a set. */
export function toFieldsV1(set: FieldSet): Record<string, any> {
  const root: Record<string, any> = {};
  for (const s of [...set].sort()) {
    let node = root;
    for (const el of decodePath(s)) node = node[el] ??= {};
  }
  return root;
}

export function fromFieldsV1(tree: Record<string, any> | undefined): FieldSet {
  const out: FieldSet = new Set();
  const rec = (node: Record<string, any>, path: FieldPath) => {
    const keys = Object.keys(node);
    if (keys.length === 0 && path.length) out.add(encodePath(path));
    for (const k of keys) rec(node[k] ?? {}, [...path, k]);
  };
  if (tree) rec(tree, []);
  return out;
}

/** Finds the value at a field path. */
export function resolve(obj: unknown, path: FieldPath): { found: boolean; value?: unknown } {
  let cur: unknown = obj;
  for (const el of path) {
    if (el === '.') return { found: true, value: cur };
    if (el.startsWith('f:')) {
      if (!isPlainObject(cur) || !(el.slice(2) in cur) || cur[el.slice(2)] === undefined) return { found: false };
      cur = cur[el.slice(2)];
    } else if (el.startsWith('k:')) {
      const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
      if (!Array.isArray(cur)) return { found: false };
      const keys = Object.keys(key);
      const item = cur.find((x) => JSON.stringify(itemKey(x, keys)) === JSON.stringify(key));
      if (item === undefined) return { found: false };
      cur = item;
    } else if (el.startsWith('v:')) {
      const val = JSON.parse(el.slice(2));
      if (!Array.isArray(cur) || !cur.some((x) => deepEqual(x, val))) return { found: false };
      return { found: true, value: val };
    }
  }
  return { found: true, value: cur };
}

/** `.spec.template.spec.containers[name="web"].image` (fieldpath.Path.String()). */
export function pathString(path: FieldPath): string {
  let s = '';
  for (const el of path) {
    if (el === '.') continue;
    if (el.startsWith('f:')) s += `.${el.slice(2)}`;
    else if (el.startsWith('k:')) {
      const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
      s += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (el.startsWith('v:')) s += `[=${el.slice(2)}]`;
  }
  return s;
}

/** Removes the given paths from a (cloned) object, deepest first; removing `…/k:{…}/.` removes the list item. */
export function removePaths(obj: Record<string, any>, paths: FieldPath[]): void {
  const sorted = [...paths].sort((a, b) => b.length - a.length);
  for (const p of sorted) {
    const last = p[p.length - 1];
    if (last === '.') {
      const holder = p.slice(0, -1);
      const target = resolve(obj, holder);
      if (!target.found) continue;
      const tail = holder[holder.length - 1];
      if (tail.startsWith('k:')) removeAt(obj, holder);
      else if (isPlainObject(target.value) && Object.keys(target.value).length === 0) removeAt(obj, holder);
      continue;
    }
    removeAt(obj, p);
  }
}

function removeAt(obj: Record<string, any>, p: FieldPath): void {
  const parent = resolve(obj, p.slice(0, -1));
  if (!parent.found) return;
  const last = p[p.length - 1];
  const pv = parent.value;
  if (last.startsWith('f:') && isPlainObject(pv)) {
    delete pv[last.slice(2)];
    return;
  }
  if (Array.isArray(pv)) {
    let idx = -1;
    if (last.startsWith('k:')) {
      const key = JSON.parse(last.slice(2)) as Record<string, unknown>;
      const keys = Object.keys(key);
      idx = pv.findIndex((x) => JSON.stringify(itemKey(x, keys)) === JSON.stringify(key));
    } else if (last.startsWith('v:')) {
      const val = JSON.parse(last.slice(2));
      idx = pv.findIndex((x) => deepEqual(x, val));
    }
    if (idx >= 0) pv.splice(idx, 1);
  }
}

/** The set's leaves and keyed-list items (no map nodes). */
export function leafPaths(set: FieldSet): string[] {
  return [...set].filter((s) => decodePath(s).at(-1) !== '.');
}

/** Compares two sets. */
export function sameSet(a: FieldSet, b: FieldSet): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
