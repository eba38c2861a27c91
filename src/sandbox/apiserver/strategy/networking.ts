/** The Ingress strategy. */
import type { KubeObject } from '../../types.js';
import { field, type FieldError } from '../../machinery/errors.js';

/** An empty load-balancer status. */
export function defaultIngress(obj: KubeObject): void {
  obj.status ??= { loadBalancer: {} };
}

/** pathType of every HTTP path. */
export function validateIngress(obj: KubeObject, _old: KubeObject | undefined, errs: FieldError[]): void {
  const spec = obj.spec;
  (spec?.rules ?? []).forEach((rule: any, i: number) => {
    (rule?.http?.paths ?? []).forEach((p: any, j: number) => {
      const path = `spec.rules[${i}].http.paths[${j}].pathType`;
      if (!p?.pathType) errs.push(field.required(path, 'pathType must be specified'));
      else if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(p.pathType)) errs.push(field.notSupported(path, p.pathType, ['Exact', 'ImplementationSpecific', 'Prefix']));
    });
  });
}
