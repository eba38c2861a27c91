/**
 * Patch application: RFC 6902 JSON patch (fast-json-patch), RFC 7386 merge patch, and strategic merge patch, whose
 * implementation (with its patchMergeKey table) is the engine's, shared with the plan's pod overrides
 * (engine/kube/strategic-merge.ts).
 */
import fjp from 'fast-json-patch';
import { StrategicMergeError, isPlainObject as isObject, strategicMerge as sharedStrategicMerge } from '../../engine/kube/strategic-merge.js';
import { StatusError, badRequest } from '../machinery/errors.js';

export {
  KEY_DEFAULTS,
  deepEqual,
  itemKey,
  listSchema,
  sameKey,
  StrategicMergeError,
  type ListSchema,
} from '../../engine/kube/strategic-merge.js';

/**
 * The engine's check, typed loosely for the sandbox's handlers, which still read request bodies field by field
 * without types (the engine's is `Record<string, unknown>`, issue 12's no-explicit-any).
 */
export const isPlainObject = isObject as (v: unknown) => v is Record<string, any>;

// ---------------------------------------------------------------------------------------------------------------
// RFC 7386

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, any> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Strategic merge patch: the engine's implementation (engine/kube/strategic-merge.ts), its errors as 400 BadRequest

/** Applies a strategic merge patch (engine/kube/strategic-merge.ts); a patch that cannot apply is a 400 BadRequest. */
export function strategicMerge(original: unknown, patch: unknown, path: readonly string[] = []): unknown {
  try {
    return sharedStrategicMerge(original, patch, path);
  } catch (e) {
    if (e instanceof StrategicMergeError) throw badRequest(e.message);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// RFC 6902

export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  try {
    return fjp.applyPatch(structuredClone(doc), ops as fjp.Operation[], true, false).newDocument;
  } catch (e) {
    // AS pkg/endpoints/handlers/patch.go answers patch application errors with 422 (Invalid).
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: ${msg}`);
  }
}
