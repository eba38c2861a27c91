/** The pod strategy (K pkg/registry/core/pod/strategy.go): defaults, admission defaults, update rules. */
import type { KubeObject } from '../../types.js';
import { field, type FieldError } from '../../machinery/errors.js';
import { deepEqual, isPlainObject } from '../patch.js';
import { defaultPodSpec, validatePodSpec } from './podspec.js';

/** SetDefaults_Pod and the defaults admission adds. */
export function defaultPod(obj: KubeObject): void {
  const spec = obj.spec;
  if (isPlainObject(spec)) {
    defaultPodSpec(spec);
    spec.enableServiceLinks ??= true; // SetDefaults_Pod (not templates)
    // Admission defaults the real server adds: ServiceAccount (plugin/pkg/admission/serviceaccount),
    // Priority (priority 0, preemptionPolicy), DefaultTolerationSeconds (not-ready/unreachable, 300 s).
    spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
    spec.serviceAccount ??= spec.serviceAccountName;
    spec.priority ??= 0;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
    spec.tolerations ??= [];
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      if (!spec.tolerations.some((t: any) => t?.key === key && (t.effect === 'NoExecute' || !t.effect))) {
        spec.tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
      }
    }
  }
}

/** ValidatePod / ValidatePodUpdate. */
export function validatePod(obj: KubeObject, old: KubeObject | undefined, errs: FieldError[]): void {
  const spec = obj.spec;
  validatePodSpec(spec, 'spec', errs);
  if (old) {
    // ValidatePodUpdate: only images, activeDeadlineSeconds, tolerations and terminationGracePeriodSeconds may
    // change (we also let an unscheduled pod get its spec.nodeName, as a binding would set it).
    const norm = (s: any) => {
      const c = structuredClone(s ?? {});
      for (const list of [c.containers, c.initContainers]) for (const x of list ?? []) if (isPlainObject(x)) delete x.image;
      delete c.activeDeadlineSeconds;
      delete c.tolerations;
      delete c.terminationGracePeriodSeconds;
      if (!old.spec?.nodeName) delete c.nodeName;
      return c;
    };
    if (!deepEqual(norm(spec), norm(old.spec))) {
      errs.push(
        field.forbidden(
          'spec',
          'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        ),
      );
    }
  }
}
