/** Create (AS pkg/registry/generic/registry/store.go Create, with BeforeCreate's metadata rules). */
import { randomUUID } from 'node:crypto';
import type { KubeObject, ResourceKey, WriteOptions } from '../../types.js';
import { alreadyExists, badRequest } from '../../machinery/errors.js';
import { type ManagedFieldsEntry, recordUpdate } from '../fields.js';
import { isPlainObject } from '../patch.js';
import { apiVersionOf } from '../resources.js';
import { applyDefaults, generateJobSelector, hasGeneration, prepareForCreate, validate } from '../strategy.js';
import { admitPod } from '../strategy/pods.js';
import { checkNamespace, scopeOf, type RegistryContext } from './context.js';
import { gr, ts } from './storage.js';

/** AS pkg/storage/names/generate.go: 5 chars from AM pkg/util/rand alphanums, prefix cut to 58. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function generateName(c: RegistryContext, prefix: string): string {
  const p = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[Math.floor(c.random() * NAME_ALPHABET.length)];
  return p + s;
}

export function createObject(
  c: RegistryContext,
  key: ResourceKey,
  ns: string | undefined,
  input: KubeObject,
  wopts: WriteOptions,
  managedFields?: ManagedFieldsEntry[],
): KubeObject {
  const r = c.storage.resourceFor(key);
  if (!isPlainObject(input)) throw badRequest('Object in body is not a valid object');
  const obj = structuredClone(input);
  obj.metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
  if (r.namespaced) {
    if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    ns = ns ?? obj.metadata.namespace;
    obj.metadata.namespace = ns;
  } else {
    ns = undefined;
    delete obj.metadata.namespace;
  }
  obj.apiVersion = apiVersionOf(r);
  obj.kind = r.kind;
  const m = obj.metadata;
  for (const f of ['uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'creationTimestamp', 'selfLink']) delete (m as Record<string, unknown>)[f];
  if (!m.name && m.generateName) {
    for (let i = 0; i < 20; i++) {
      m.name = generateName(c, m.generateName);
      if (!c.storage.has(key, ns, m.name)) break;
    }
  }
  checkNamespace(c, r, ns, m.name ?? '');
  if (m.name && c.storage.has(key, ns, m.name)) throw alreadyExists(gr(r), m.name);
  m.uid = randomUUID();
  m.creationTimestamp = ts(c.now());
  if (hasGeneration(r)) m.generation = 1;
  delete m.managedFields;

  prepareForCreate(r, obj);
  if (key === 'batch/jobs') generateJobSelector(obj);
  applyDefaults(r, obj);
  if (key === 'pods') admitPod(obj, ns, (sa) => c.storage.raw('serviceaccounts', ns, sa));
  validate(r, obj);
  if (key === 'services') c.addresses.allocate(obj, undefined, !!wopts.dryRun);

  const manager = wopts.fieldManager || c.defaultManager;
  m.managedFields = managedFields ?? recordUpdate(undefined, obj, manager, apiVersionOf(r), scopeOf(r), undefined);
  if (!m.managedFields.length) delete m.managedFields;
  if (wopts.dryRun) return structuredClone(obj);
  return c.storage.commit('ADDED', key, obj);
}
