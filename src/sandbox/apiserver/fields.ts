/**
 * Field ownership (metadata.managedFields) and server-side apply.
 *
 * A reduced version of structured-merge-diff as used by AM pkg/util/managedfields/internal: every manager entry
 * (manager, operation, subresource) owns a set of field paths, encoded as FieldsV1 (`f:spec`, `f:replicas`,
 * `k:{"name":"web"}` for keyed list items, `v:"x"` for set members, `.` for the node itself). Update-style writes
 * (create/PUT/non-apply PATCH) give their manager the fields they changed and take them from everyone else; Apply
 * gives its manager exactly the applied fields, removes fields it stopped applying when nobody else owns them, and
 * refuses to change another manager's field to a different value (409) unless forced.
 */
import type { KubeObject } from '../types.js';
import { StatusError } from '../machinery/errors.js';
import { deepEqual, isPlainObject, itemKey, listSchema, strategicMerge } from './patch.js';

export type FieldPath = string[];
export type FieldSet = Set<string>;

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, any>;
  subresource?: string;
}

/** Which part of the object a write may own: main resource (no status when the type has a status subresource), status subresource, or all. */
export type OwnershipScope = 'main' | 'status' | 'all';

/** Metadata fields the server owns; never part of a manager's set (upstream strips them the same way). */
const STRIPPED_META = new Set([
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
const ATOMIC_FIELDS = new Set(['selector', 'nodeSelector', 'labelSelector', 'namespaceSelector']);

const enc = (p: FieldPath) => JSON.stringify(p);
const dec = (s: string) => JSON.parse(s) as FieldPath;

/** The paths of an object's fields (leaves, keyed-list items and map nodes). */
/**
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
    out.add(enc(path));
    return;
  }
  if (isPlainObject(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) {
      out.add(enc(path));
      return;
    }
    if (mapNodes && MAP_FIELDS.has(names[names.length - 1])) out.add(enc([...path, '.']));
    for (const [k, x] of entries) walkFields(x, [...path, `f:${k}`], [...names, k], out, mapNodes);
    return;
  }
  if (Array.isArray(v) && v.length > 0) {
    const schema = listSchema(names);
    if (schema.type === 'map') {
      for (const item of v) {
        const ip = [...path, `k:${JSON.stringify(itemKey(item, schema.keys))}`];
        out.add(enc([...ip, '.']));
        if (isPlainObject(item)) for (const [k, x] of Object.entries(item)) if (x !== undefined) walkFields(x, [...ip, `f:${k}`], [...names, k], out, mapNodes);
      }
      return;
    }
    if (schema.type === 'set') {
      for (const item of v) out.add(enc([...path, `v:${JSON.stringify(item)}`]));
      return;
    }
  }
  out.add(enc(path));
}

/** FieldsV1 JSON tree from a set. */
export function toFieldsV1(set: FieldSet): Record<string, any> {
  const root: Record<string, any> = {};
  for (const s of [...set].sort()) {
    let node = root;
    for (const el of dec(s)) node = node[el] ??= {};
  }
  return root;
}

export function fromFieldsV1(tree: Record<string, any> | undefined): FieldSet {
  const out: FieldSet = new Set();
  const rec = (node: Record<string, any>, path: FieldPath) => {
    const keys = Object.keys(node);
    if (keys.length === 0 && path.length) out.add(enc(path));
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

function leafPaths(set: FieldSet): string[] {
  return [...set].filter((s) => dec(s).at(-1) !== '.');
}

function sameEntry(e: ManagedFieldsEntry, manager: string, operation: string, subresource: string | undefined): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

function readEntries(obj: KubeObject | undefined): ManagedFieldsEntry[] {
  return structuredClone((obj?.metadata.managedFields ?? []) as ManagedFieldsEntry[]).filter((e) => e && e.manager !== undefined);
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * managedFields after an Update-style write by `manager`: it gains the fields that changed, others lose them,
 * removed fields leave every set. `time` is refreshed only on the writer's entry.
 */
export function recordUpdate(
  oldObj: KubeObject | undefined,
  newObj: KubeObject,
  manager: string,
  apiVersion: string,
  scope: OwnershipScope,
  subresource?: string,
): ManagedFieldsEntry[] {
  const entries = readEntries(oldObj);
  const newSet = fieldSetOf(newObj, scope);
  const oldSet = oldObj ? fieldSetOf(oldObj, scope) : new Set<string>();
  const changed = new Set<string>();
  for (const p of newSet) {
    if (!oldSet.has(p)) changed.add(p);
    else if (dec(p).at(-1) !== '.' && !deepEqual(resolve(oldObj, dec(p)).value, resolve(newObj, dec(p)).value)) changed.add(p);
  }
  const removed = [...oldSet].filter((p) => !newSet.has(p));
  const out: ManagedFieldsEntry[] = [];
  let mine: ManagedFieldsEntry | undefined;
  for (const e of entries) {
    let set = fromFieldsV1(e.fieldsV1);
    for (const r of removed) set.delete(r);
    if (sameEntry(e, manager, 'Update', subresource)) {
      mine = e;
      set = new Set([...set, ...changed]);
    } else for (const c of changed) set.delete(c);
    if (set.size === 0) continue;
    e.fieldsV1 = toFieldsV1(set);
    if (e === mine) {
      e.time = now();
      e.apiVersion = apiVersion;
    }
    out.push(e);
  }
  if (!mine && changed.size > 0) {
    const e: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(changed) };
    if (subresource) e.subresource = subresource;
    out.push(e);
  }
  return out;
}

function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

/** AM pkg/util/managedfields/internal/conflict.go NewConflictError / getConflictMessage. */
function conflictError(conflicts: { manager: string; path: string }[]): StatusError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${c.manager}`, field: c.path }));
  let msg: string;
  if (conflicts.length === 1) msg = `Apply failed with 1 conflict: conflict with ${conflicts[0].manager}: ${conflicts[0].path}`;
  else {
    const by = new Map<string, string[]>();
    for (const c of conflicts) by.set(c.manager, [...(by.get(c.manager) ?? []), c.path]);
    const lines: string[] = [];
    for (const m of [...by.keys()].sort()) {
      lines.push(`conflicts with ${m}:`);
      for (const p of by.get(m)!) lines.push(`- ${p}`);
    }
    msg = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', msg, { causes });
}

export interface ApplyResult {
  /** The merged object (before defaulting/validation). */
  object: KubeObject;
  managedFields: ManagedFieldsEntry[];
}

/**
 * Server-side apply of `applied` (the manager's whole intent) over `live` (undefined when creating).
 * Throws 409 Conflict when it would change another manager's field and `force` is false.
 */
export function applyConfig(
  live: KubeObject | undefined,
  applied: KubeObject,
  manager: string,
  apiVersion: string,
  force: boolean,
  scope: OwnershipScope,
  subresource?: string,
): ApplyResult {
  const entries = readEntries(live);
  const appliedSet = fieldSetOf(applied, scope, false);
  const base: KubeObject = live ? structuredClone(live) : ({ apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} } as KubeObject);

  // Conflicts: another manager owns a field we set, and our value differs from the live one.
  const conflicts: { manager: string; path: string; raw: string; entry: ManagedFieldsEntry }[] = [];
  for (const e of entries) {
    if (sameEntry(e, manager, 'Apply', subresource)) continue;
    const theirs = fromFieldsV1(e.fieldsV1);
    for (const p of leafPaths(appliedSet)) {
      if (!theirs.has(p)) continue;
      const want = resolve(applied, dec(p));
      const have = resolve(base, dec(p));
      if (!have.found || !deepEqual(want.value, have.value)) {
        conflicts.push({ manager: printManager(e), path: pathString(dec(p)), raw: p, entry: e });
      }
    }
  }
  if (conflicts.length && !force) throw conflictError(conflicts);

  // Ownership after this apply.
  const out: ManagedFieldsEntry[] = [];
  let prevMine = new Set<string>();
  for (const e of entries) {
    if (sameEntry(e, manager, 'Apply', subresource)) {
      prevMine = fromFieldsV1(e.fieldsV1);
      continue;
    }
    const set = fromFieldsV1(e.fieldsV1);
    for (const c of conflicts) if (c.entry === e) set.delete(c.raw);
    if (set.size === 0) continue;
    e.fieldsV1 = toFieldsV1(set);
    out.push(e);
  }
  // Fields this manager applied before but not now, that nobody else owns, are removed.
  const othersOwn = new Set<string>();
  for (const e of out) for (const p of fromFieldsV1(e.fieldsV1)) othersOwn.add(p);
  const drop = [...prevMine].filter((p) => !appliedSet.has(p) && !othersOwn.has(p)).map(dec);
  removePaths(base, drop);

  const { apiVersion: _a, kind: _k, metadata: appliedMeta, ...rest } = applied;
  const metaPatch: Record<string, any> = {};
  for (const [k, v] of Object.entries(appliedMeta ?? {})) if (!STRIPPED_META.has(k) || k === 'name' || k === 'namespace') metaPatch[k] = v;
  dropAtomic(base, rest, []);
  const merged = strategicMerge(base, { ...rest, metadata: metaPatch }) as KubeObject;
  merged.apiVersion = applied.apiVersion;
  merged.kind = applied.kind;

  const prevEntry = entries.find((e) => sameEntry(e, manager, 'Apply', subresource));
  if (appliedSet.size > 0) {
    const e: ManagedFieldsEntry = {
      manager,
      operation: 'Apply',
      apiVersion,
      time: prevEntry && sameSet(prevMine, appliedSet) ? prevEntry.time : now(),
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(appliedSet),
    };
    if (subresource) e.subresource = subresource;
    // Keep the entry's position when it existed.
    const idx = entries.findIndex((x) => sameEntry(x, manager, 'Apply', subresource));
    if (idx >= 0) out.splice(Math.min(idx, out.length), 0, e);
    else out.push(e);
  }
  return { object: merged, managedFields: out };
}

/** Removes from `base` the atomic values `applied` sets, so the merge replaces them whole. */
function dropAtomic(base: unknown, applied: unknown, names: string[]): void {
  if (!isPlainObject(base) || !isPlainObject(applied)) return;
  for (const [k, v] of Object.entries(applied)) {
    if (v === undefined || v === null) continue;
    if (ATOMIC_FIELDS.has(k) && isPlainObject(v)) {
      delete base[k];
      continue;
    }
    if (isPlainObject(v)) dropAtomic(base[k], v, [...names, k]);
    else if (Array.isArray(v) && Array.isArray(base[k])) {
      const schema = listSchema([...names, k]);
      if (schema.type !== 'map') continue;
      for (const item of v) {
        const key = JSON.stringify(itemKey(item, schema.keys));
        const match = (base[k] as unknown[]).find((x) => JSON.stringify(itemKey(x, schema.keys)) === key);
        if (match) dropAtomic(match, item, [...names, k]);
      }
    }
  }
}

/** Compares two sets. */
export function sameSet(a: FieldSet, b: FieldSet): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
