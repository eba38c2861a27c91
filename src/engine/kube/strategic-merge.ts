/**
 * Kubernetes' strategic merge, one implementation for the whole program: the sandbox's API server applies strategic
 * merge patches with it (src/sandbox/apiserver/patch.ts), and the plan merges per-stage pod overrides into the planned
 * pod templates with it (src/engine/plan/overrides.ts), so both follow the same rules.
 *
 * Lists merge as the served types' struct tags say (API core/v1/types.go, apps/v1, batch/v1: `patchStrategy:"merge"
 * patchMergeKey:"…"` and `listType=map|set|atomic` markers), from a small table (`listSchema`): `env`, `volumes`,
 * `containers` by `name`, `volumeMounts` by `mountPath`, ...; every other list (`tolerations`, `args`, `envFrom`, ...)
 * is atomic, replaced whole.
 */

/** A patch that cannot be applied (a keyed list item without its key); the API server answers it with 400 BadRequest. */
export class StrategicMergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StrategicMergeError';
  }
}

export type ListSchema = { type: 'map'; keys: string[] } | { type: 'set' } | { type: 'atomic' };

/** Key values that defaulting fills in, so keys compare equal before and after defaulting (ports[].protocol). */
export const KEY_DEFAULTS: Record<string, unknown> = { protocol: 'TCP' };

/**
 * How a list at `path` (field names only, no indexes) merges. Lists not listed here are atomic (replaced whole),
 * as `listType=atomic` / no patchStrategy upstream.
 */
export function listSchema(path: readonly string[]): ListSchema {
  const name = path[path.length - 1];
  const parent = path[path.length - 2];
  switch (name) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'secrets':
      return { type: 'map', keys: ['name'] };
    case 'volumeMounts':
      return { type: 'map', keys: ['mountPath'] };
    case 'volumeDevices':
      return { type: 'map', keys: ['devicePath'] };
    case 'ports':
      // Container ports merge by containerPort (SSA key containerPort+protocol); Service ports by port (+protocol).
      if (path.includes('containers') || path.includes('initContainers') || path.includes('ephemeralContainers')) {
        return { type: 'map', keys: ['containerPort', 'protocol'] };
      }
      if (parent === 'spec') return { type: 'map', keys: ['port', 'protocol'] };
      return { type: 'atomic' };
    case 'conditions':
      return { type: 'map', keys: ['type'] };
    case 'ownerReferences':
      return { type: 'map', keys: ['uid'] };
    case 'hostAliases':
      return { type: 'map', keys: ['ip'] };
    case 'topologySpreadConstraints':
      return { type: 'map', keys: ['topologyKey', 'whenUnsatisfiable'] };
    case 'finalizers':
      return { type: 'set' };
    default:
      // tolerations, args, command, envFrom, subsets, rules, subjects, matchExpressions, clusterIPs, … are atomic
      // for server-side apply; for strategic merge they have no patchStrategy and are replaced too.
      return { type: 'atomic' };
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Identity of a keyed list item: the key fields (with key defaults applied) in key order. */
export function itemKey(item: unknown, keys: string[]): Record<string, unknown> {
  const k: Record<string, unknown> = {};
  if (!isPlainObject(item)) return k;
  for (const f of keys) {
    const v = item[f] ?? KEY_DEFAULTS[f];
    if (v !== undefined) k[f] = v;
  }
  return k;
}

export function sameKey(a: unknown, b: unknown, keys: string[]): boolean {
  return JSON.stringify(itemKey(a, keys)) === JSON.stringify(itemKey(b, keys));
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Strategic merge (AM pkg/util/strategicpatch/patch.go, reduced to the directives our clients send)

/**
 * Applies a strategic merge patch. Supported: keyed list merge, set-union of primitive `merge` lists (finalizers),
 * `$patch: replace|delete|merge` on maps and list items, `[{"$patch":"replace"}, …]` list replacement,
 * `$deleteFromPrimitiveList/<field>`. `$retainKeys` and `$setElementOrder/<field>` are accepted and ignored (they only
 * matter for union types and element order, neither of which our types or clients rely on).
 */
export function strategicMerge(original: unknown, patch: unknown, path: readonly string[] = []): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return structuredClone(rest);
  }
  if (directive === 'delete') return undefined;
  const out: Record<string, unknown> = isPlainObject(original) ? { ...original } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      const list = out[f];
      if (Array.isArray(list) && Array.isArray(v)) {
        const kept = list.filter((x: unknown) => !v.some((d) => deepEqual(d, x)));
        if (kept.length === 0) delete out[f];
        else out[f] = kept;
      }
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const p = [...path, k];
    if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, p);
      continue;
    }
    if (isPlainObject(v)) {
      const r = strategicMerge(out[k], v, p);
      if (r === undefined) delete out[k];
      else out[k] = r;
      continue;
    }
    out[k] = v;
  }
  return out;
}

function mergeList(original: unknown, patch: unknown[], path: readonly string[]): unknown[] {
  const schema = listSchema(path);
  const orig = Array.isArray(original) ? original : [];
  const replace = patch.some((x) => isPlainObject(x) && x.$patch === 'replace' && Object.keys(x).length === 1);
  const items = patch.filter((x) => !(isPlainObject(x) && x.$patch === 'replace' && Object.keys(x).length === 1));
  if (replace || schema.type === 'atomic') return structuredClone(items);
  if (schema.type === 'set') {
    const out = [...orig];
    for (const x of items) if (!out.some((y) => deepEqual(x, y))) out.push(structuredClone(x));
    return out;
  }
  const keys = [schema.keys[0]]; // SMP merges by the patchMergeKey only
  const out: unknown[] = orig.map((x) => structuredClone(x));
  for (const item of items) {
    if (!isPlainObject(item)) {
      throw new StrategicMergeError(`unable to find api field in struct for the list ${path.join('.')}: patch items must be objects`);
    }
    if (item[keys[0]] === undefined) {
      throw new StrategicMergeError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${keys[0]}`);
    }
    const idx = out.findIndex((o) => sameKey(o, item, keys));
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], item, path);
    else out.push(strategicMerge(undefined, item, path));
  }
  return out;
}
