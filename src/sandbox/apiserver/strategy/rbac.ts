/** RoleBinding and ClusterRoleBinding validation (K pkg/apis/rbac/validation). */
import type { KubeObject } from '../../types.js';
import { field, type FieldError } from '../../machinery/errors.js';
import { deepEqual } from '../patch.js';
import { invalidRaw } from './meta.js';

/** roleRef is required and immutable. */
export function validateRoleBinding(obj: KubeObject, old: KubeObject | undefined, errs: FieldError[]): void {
  if (!obj.roleRef?.name) errs.push(field.required('roleRef.name'));
  if (old && !deepEqual(obj.roleRef, old.roleRef)) {
    errs.push(invalidRaw('roleRef', `rbac.RoleRef{APIGroup:${JSON.stringify(obj.roleRef?.apiGroup ?? '')}, Kind:${JSON.stringify(obj.roleRef?.kind ?? '')}, Name:${JSON.stringify(obj.roleRef?.name ?? '')}}`, 'cannot change roleRef'));
  }
}
