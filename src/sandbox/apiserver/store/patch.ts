/** Patch (AS pkg/endpoints/handlers/patch.go's appliers): JSON, merge and strategic merge patches, and server-side apply. */
import type { KubeObject, PatchOptions, PatchType, ResourceKey, ResourceType } from '../../types.js';
import { badRequest, field, invalid, notFound } from '../../machinery/errors.js';
import { applyConfig } from '../fields.js';
import { isPlainObject, jsonPatch, mergePatch, strategicMerge } from '../patch.js';
import { apiVersionOf } from '../resources.js';
import { scopeOf, type RegistryContext } from './context.js';
import { createObject } from './create.js';
import { gr, scopeNs } from './storage.js';
import { updateObject } from './update.js';

export function patchObject(c: RegistryContext, key: ResourceKey, ns: string | undefined, name: string, type: PatchType, body: unknown, popts: PatchOptions): KubeObject {
  const r = c.storage.resourceFor(key);
  ns = scopeNs(r, ns);
  let patch = body;
  if (typeof patch === 'string') {
    try {
      patch = JSON.parse(patch);
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
  }
  if (type !== 'apply' && popts.force !== undefined) {
    throw invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [field.forbidden('force', 'may not be specified for non-apply patch')]);
  }
  if (type === 'apply') return applyObject(c, r, key, ns, name, patch, popts);
  const existing = c.storage.raw(key, ns, name);
  if (!existing) throw notFound(gr(r), name);
  const current = structuredClone(existing);
  let patched: unknown;
  switch (type) {
    case 'json':
      patched = jsonPatch(current, patch);
      break;
    case 'merge':
      if (!isPlainObject(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
      patched = mergePatch(current, patch);
      break;
    case 'strategic':
      if (!isPlainObject(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
      patched = strategicMerge(current, patch);
      break;
    default:
      throw badRequest(`unsupported patch type ${String(type)}`);
  }
  if (!isPlainObject(patched)) throw badRequest('the patch did not produce an object');
  const p = patched as KubeObject;
  // A patch without metadata.resourceVersion applies to the latest object; one carrying a different one conflicts.
  return updateObject(c, key, ns, name, p, popts);
}

function applyObject(c: RegistryContext, r: ResourceType, key: ResourceKey, ns: string | undefined, name: string, patch: unknown, popts: PatchOptions): KubeObject {
  const manager = popts.fieldManager;
  if (!manager) {
    throw invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [field.required('fieldManager', 'is required for apply patch')]);
  }
  if (!isPlainObject(patch)) throw badRequest('error decoding YAML: the apply patch must be an object');
  const applied = structuredClone(patch) as KubeObject;
  const want = apiVersionOf(r);
  if (applied.apiVersion !== want || (applied.kind && applied.kind !== r.kind)) {
    throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${applied.apiVersion ?? ''}, expected: ${want}`);
  }
  applied.kind = r.kind;
  applied.metadata = isPlainObject(applied.metadata) ? applied.metadata : {};
  if (applied.metadata.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
  if (applied.metadata.name && applied.metadata.name !== name) {
    throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
  }
  if (r.namespaced && applied.metadata.namespace && applied.metadata.namespace !== ns) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const existing = c.storage.raw(key, ns, name);
  const sub = popts.subresource === 'status' ? 'status' : undefined;
  const scope = scopeOf(r, sub);
  if (!existing) {
    if (sub) throw notFound(gr(r), name);
    const res = applyConfig(undefined, applied, manager, want, !!popts.force, scope);
    res.object.metadata.name = name;
    return createObject(c, key, ns, res.object, { ...popts, fieldManager: manager }, res.managedFields);
  }
  const res = applyConfig(existing, applied, manager, want, !!popts.force, scope, sub);
  return updateObject(c, key, ns, name, res.object, { ...popts, fieldManager: manager }, res.managedFields);
}
