/**
 * Field ownership (metadata.managedFields) and server-side apply.
 *
 * A reduced version of structured-merge-diff as used by AM pkg/util/managedfields/internal: every manager entry
 * (manager, operation, subresource) owns a set of field paths (field-paths.ts), encoded as FieldsV1. Update-style writes
 * (create/PUT/non-apply PATCH) give their manager the fields they changed and take them from everyone else; Apply
 * gives its manager exactly the applied fields, removes fields it stopped applying when nobody else owns them, and
 * refuses to change another manager's field to a different value (409) unless forced.
 */
import type { KubeObject } from '../types.js';
import { StatusError } from '../machinery/errors.js';
import { deepEqual, isPlainObject, itemKey, listSchema, strategicMerge } from './patch.js';
import {
  ATOMIC_FIELDS,
  STRIPPED_META,
  decodePath,
  fieldSetOf,
  fromFieldsV1,
  leafPaths,
  pathString,
  removePaths,
  resolve,
  sameSet,
  toFieldsV1,
  type OwnershipScope,
} from './field-paths.js';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, any>;
  subresource?: string;
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
    else if (decodePath(p).at(-1) !== '.' && !deepEqual(resolve(oldObj, decodePath(p)).value, resolve(newObj, decodePath(p)).value)) changed.add(p);
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
      const want = resolve(applied, decodePath(p));
      const have = resolve(base, decodePath(p));
      if (!have.found || !deepEqual(want.value, have.value)) {
        conflicts.push({ manager: printManager(e), path: pathString(decodePath(p)), raw: p, entry: e });
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
  const drop = [...prevMine].filter((p) => !appliedSet.has(p) && !othersOwn.has(p)).map(decodePath);
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
