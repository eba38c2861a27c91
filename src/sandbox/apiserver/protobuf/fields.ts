/**
 * Unknown-field detection for server-side field validation (fieldValidation=Strict|Warn), from the schema table: the
 * JSON names of a message are its fields' names, with the fields of inlined embedded structs (Volume.volumeSource,
 * Probe.handler, the LocalObjectReference of key selectors, …) in place of the struct itself, as Go's JSON decoding
 * sees them (sigs.k8s.io/json strict decoding: `unknown field "spec.template.spec.containers[0].imagee"`).
 */
import { messageForKind } from './decode.js';
import { messageSpec, type FieldSpec } from './schema.js';

const jsonFieldCache = new Map<string, ReadonlyMap<string, FieldSpec>>();

/** A message's fields by JSON name, inlined structs flattened. */
export function jsonFields(message: string): ReadonlyMap<string, FieldSpec> {
  let out = jsonFieldCache.get(message);
  if (out) return out;
  const spec = messageSpec(message);
  if (!spec) throw new Error(`no schema for message ${message}`);
  const m = new Map<string, FieldSpec>();
  for (const f of spec.fields) {
    if (f.inline) for (const [k, v] of jsonFields(f.type)) m.set(k, v);
    else m.set(f.json, f);
  }
  jsonFieldCache.set(message, (out = m));
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * JSON paths of the fields of `obj` that its kind does not have, e.g. `spec.replica`,
 * `spec.template.spec.containers[0].imagee`. Kinds the schema does not know yield none. Keys starting with `$`
 * (strategic merge patch directives) are not fields.
 */
export function unknownFieldPaths(obj: unknown, apiVersion: string, kind: string): string[] {
  const message = messageForKind(apiVersion, kind);
  if (!message || !isObject(obj)) return [];
  const out: string[] = [];
  walk(obj, message, '', out, true);
  return out;
}

function walk(obj: Record<string, unknown>, message: string, path: string, out: string[], top = false): void {
  const fields = jsonFields(message);
  for (const [k, v] of Object.entries(obj)) {
    if (top && (k === 'apiVersion' || k === 'kind')) continue;
    if (k.startsWith('$')) continue;
    const p = path ? `${path}.${k}` : k;
    const f = fields.get(k);
    if (!f) {
      out.push(p);
      continue;
    }
    if (f.kind !== 'message' || v === null || v === undefined) continue;
    if (f.map) {
      if (isObject(v)) for (const [mk, mv] of Object.entries(v)) if (isObject(mv)) walk(mv, f.type, `${p}.${mk}`, out);
    } else if (f.repeated) {
      if (Array.isArray(v)) v.forEach((item, i) => isObject(item) && walk(item, f.type, `${p}[${i}]`, out));
    } else if (isObject(v)) walk(v, f.type, p, out);
  }
}
