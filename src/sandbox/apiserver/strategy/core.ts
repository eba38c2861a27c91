/** Strategies of the simple core/v1 kinds: Secrets, ConfigMaps, Namespaces. */
import type { KubeObject, ResourceType } from '../../types.js';
import { field, type FieldError } from '../../machinery/errors.js';
import { deepEqual, isPlainObject } from '../patch.js';

/** Secret defaults; stringData merged into data. */
export function defaultSecret(obj: KubeObject): void {
  obj.type ??= 'Opaque';
  // stringData is write-only: merged into data (base64) and dropped (K pkg/apis/core/v1/conversion.go).
  if (isPlainObject(obj.stringData)) {
    obj.data = { ...(obj.data ?? {}) };
    for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  delete obj.stringData;
}

/** The namespace name label and an empty spec. */
export function defaultNamespace(obj: KubeObject): void {
  obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
  obj.spec ??= {};
}

/** ValidateConfigMap / ValidateSecret and their updates. */
export function validateConfigData(obj: KubeObject, old: KubeObject | undefined, errs: FieldError[], r: ResourceType): void {
  const data = { ...(obj.data ?? {}), ...(obj.binaryData ?? {}) };
  for (const k of Object.keys(data)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) {
      errs.push(field.invalid(`data[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
    }
  }
  if (r.resource === 'secrets') {
    for (const [k, v] of Object.entries(obj.data ?? {})) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
        errs.push(field.invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
      }
    }
  }
  if (old?.immutable === true) {
    if (obj.immutable !== true) errs.push(field.forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!deepEqual(obj.data ?? {}, old.data ?? {})) errs.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
    if (!deepEqual(obj.binaryData ?? {}, old.binaryData ?? {})) errs.push(field.forbidden('binaryData', 'field is immutable when `immutable` is set'));
  }
  if (r.resource === 'secrets' && old && obj.type !== old.type) errs.push(field.invalid('type', obj.type, 'field is immutable'));
}
