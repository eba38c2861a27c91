/** ObjectMeta validation (AM pkg/api/validation/objectmeta.go) and the Go renderings upstream's messages print. */
import type { KubeObject, ResourceType } from '../../types.js';
import { type FieldError, field, formatValue } from '../../machinery/errors.js';
import { isPlainObject } from '../patch.js';
import { isQualifiedName, isValidLabelValue, nameValidator } from './names.js';

/** Go's `%#v` of a metav1.LabelSelector, as the immutable-selector error prints it. */
export function goLabelSelector(sel: any): string {
  const ml = sel?.matchLabels && Object.keys(sel.matchLabels).length ? formatValue(sel.matchLabels) : 'map[string]string(nil)';
  const me = sel?.matchExpressions?.length
    ? `[]v1.LabelSelectorRequirement{${sel.matchExpressions
        .map((e: any) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key)}, Operator:${JSON.stringify(e.operator)}, Values:[]string{${(e.values ?? []).map((v: string) => JSON.stringify(v)).join(', ')}}}`)
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

export function invalidRaw(path: string, rendered: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: path, body: `Invalid value: ${rendered}: ${detail}` };
}

export function validateMeta(r: ResourceType, obj: KubeObject, errs: FieldError[]): void {
  const name = obj.metadata?.name;
  if (!name) {
    if (!obj.metadata?.generateName) errs.push(field.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const m of nameValidator(r)(name)) errs.push(field.invalid('metadata.name', name, m));
  }
  const meta = obj.metadata ?? {};
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(field.invalid('metadata.labels', k, m));
    for (const m of isValidLabelValue(String(v))) errs.push(field.invalid('metadata.labels', v, m));
  }
  for (const k of Object.keys(meta.annotations ?? {})) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(field.invalid('metadata.annotations', k, m));
  }
  const annSize = Object.entries(meta.annotations ?? {}).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
  if (annSize > 262144) errs.push({ type: 'FieldValueTooLong', field: 'metadata.annotations', body: 'Too long: must have at most 262144 bytes' });
  const fins: string[] = meta.finalizers ?? [];
  for (const f of fins) for (const m of isQualifiedName(f)) errs.push(field.invalid('metadata.finalizers', f, m));
  if (fins.includes('orphan') && fins.includes('foregroundDeletion')) {
    errs.push(field.invalid('metadata.finalizers', fins, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  // ValidateOwnerReferences (AM pkg/api/validation/objectmeta.go).
  let controllers = 0;
  for (const ref of meta.ownerReferences ?? []) {
    if (!ref?.apiVersion) errs.push(field.invalid('metadata.ownerReferences.apiVersion', '', 'version must not be empty'));
    if (!ref?.kind) errs.push(field.invalid('metadata.ownerReferences.kind', '', 'kind must not be empty'));
    if (!ref?.name) errs.push(field.invalid('metadata.ownerReferences.name', '', 'name must not be empty'));
    if (!ref?.uid) errs.push(field.invalid('metadata.ownerReferences.uid', '', 'uid must not be empty'));
    if (ref?.controller) controllers++;
  }
  if (controllers > 1) {
    const names = (meta.ownerReferences ?? []).filter((x) => x.controller).map((x) => `${x.kind}/${x.name}`);
    errs.push({ type: 'FieldValueInvalid', field: 'metadata.ownerReferences', body: `Invalid value: ${JSON.stringify(meta.ownerReferences)}: Only one reference can have Controller set to true. Found "true" in references for ${names[0]} and ${names[1]}` });
  }
}

/**
 * Drops JSON nulls inside an object, in place. The real server decodes into Go structs, where `null`
 * for an optional field is the zero value, which encodes as absent: kubectl sends pod templates with
 * `metadata.creationTimestamp: null` (e.g. `rollout undo`), and a template stored with it must still
 * equal the same template without it (the Deployment controller's EqualIgnoreHash compares structs).
 * Maps keep null entries out as well (Go's map[string]string cannot hold one). List items stay.
 */
export function dropNulls(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) dropNulls(item);
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === null) delete (value as Record<string, unknown>)[k];
      else dropNulls(v);
    }
  }
}
