/**
 * Per-kind defaulting and validation, after the upstream registries' strategies and the v1 defaulters:
 * K pkg/apis/core/v1/defaults.go, apps/v1/defaults.go, batch/v1/defaults.go; K pkg/apis/core/validation/validation.go,
 * apps/validation, batch/validation; K pkg/registry/batch/job/strategy.go (generated selector).
 */
import type { KubeObject, ResourceType } from '../types.js';
import { type FieldError, invalid } from '../machinery/errors.js';
import { FINALIZER_KUBERNETES } from '../machinery/finalizers.js';
import { qosClass } from '../machinery/qos.js';
import { hasStatusSubresource, keyOf as keyOfType } from './resources.js';
import { defaultDeployment, defaultReplicaSet, validateWorkload } from './strategy/apps.js';
import { defaultCronJob, defaultJob, validateCronJob, validateJob } from './strategy/batch.js';
import { defaultLease } from './strategy/coordination.js';
import { defaultNamespace, defaultSecret, validateConfigData } from './strategy/core.js';
import { dropNulls, validateMeta } from './strategy/meta.js';
import { defaultIngress, validateIngress } from './strategy/networking.js';
import { defaultPod, validatePod } from './strategy/pods.js';
import { validateRoleBinding } from './strategy/rbac.js';
import { defaultService, validateService } from './strategy/services.js';

export { generateJobSelector } from './strategy/batch.js';

/** What the registry asks of a kind beyond the generic store (the parts of upstream's RESTCreateStrategy the sandbox has). */
interface KindStrategy {
  /** Defaults filled on every write (create and update), as the decoder's defaulting does upstream. */
  defaults?(obj: KubeObject): void;
  /** Create (`old` undefined) and update validation, appending every problem found. */
  validate?(obj: KubeObject, old: KubeObject | undefined, errs: FieldError[], r: ResourceType): void;
}

const STRATEGIES: Record<string, KindStrategy> = {
  pods: { defaults: defaultPod, validate: validatePod },
  'apps/deployments': { defaults: defaultDeployment, validate: validateWorkload },
  'apps/replicasets': { defaults: defaultReplicaSet, validate: validateWorkload },
  'batch/jobs': { defaults: defaultJob, validate: validateJob },
  'batch/cronjobs': { defaults: defaultCronJob, validate: validateCronJob },
  services: { defaults: defaultService, validate: validateService },
  secrets: { defaults: defaultSecret, validate: validateConfigData },
  configmaps: { validate: validateConfigData },
  namespaces: { defaults: defaultNamespace },
  'networking.k8s.io/ingresses': { defaults: defaultIngress, validate: validateIngress },
  'coordination.k8s.io/leases': { defaults: defaultLease },
  'rbac.authorization.k8s.io/rolebindings': { validate: validateRoleBinding },
  'rbac.authorization.k8s.io/clusterrolebindings': { validate: validateRoleBinding },
};

/** PrepareForCreate: status is the server's (cleared), except Pods/Namespaces get their initial phase. */
export function prepareForCreate(r: ResourceType, obj: KubeObject): void {
  switch (keyOfType(r)) {
    case 'pods':
      obj.status = { phase: 'Pending', qosClass: qosClass(obj.spec) };
      break;
    case 'namespaces':
      obj.status = { phase: 'Active' };
      obj.spec = { ...(obj.spec ?? {}), finalizers: [FINALIZER_KUBERNETES] };
      break;
    case 'nodes':
      break;
    default:
      if (hasStatusSubresource(r)) delete obj.status;
  }
}

/** Defaults filled on every write (create and update), as the decoder's defaulting does upstream. */
export function applyDefaults(r: ResourceType, obj: KubeObject): void {
  dropNulls(obj);
  STRATEGIES[keyOfType(r)]?.defaults?.(obj);
}


/** Kinds whose metadata.generation tracks spec changes. */
export function hasGeneration(r: ResourceType): boolean {
  return ['apps/deployments', 'apps/replicasets', 'batch/jobs', 'batch/cronjobs', 'networking.k8s.io/ingresses'].includes(keyOfType(r));
}

/** Create/update validation. Throws 422 Invalid with every problem found. */
export function validate(r: ResourceType, obj: KubeObject, old?: KubeObject): void {
  const errs: FieldError[] = [];
  validateMeta(r, obj, errs);
  STRATEGIES[keyOfType(r)]?.validate?.(obj, old, errs, r);
  if (errs.length) throw invalid({ group: r.group, kind: r.kind }, obj.metadata?.name ?? '', errs);
}
