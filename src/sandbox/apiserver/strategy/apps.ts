/** The Deployment and ReplicaSet strategies (K pkg/registry/apps/{deployment,replicaset}/strategy.go). */
import type { KubeObject, ResourceType } from '../../types.js';
import { field, type FieldError } from '../../machinery/errors.js';
import { deepEqual, isPlainObject } from '../patch.js';
import { goLabelSelector, invalidRaw } from './meta.js';
import { defaultTemplate, validatePodSpec, validateSelectorAndTemplate } from './podspec.js';

/** SetDefaults_Deployment (apps/v1). */
export function defaultDeployment(obj: KubeObject): void {
  const spec = obj.spec;
  if (isPlainObject(spec)) {
    spec.replicas ??= 1;
    spec.strategy ??= {};
    spec.strategy.type ??= 'RollingUpdate';
    if (spec.strategy.type === 'RollingUpdate') {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
      spec.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultTemplate(spec.template);
  }
}

/** SetDefaults_ReplicaSet (apps/v1). */
export function defaultReplicaSet(obj: KubeObject): void {
  const spec = obj.spec;
  if (isPlainObject(spec)) {
    spec.replicas ??= 1;
    defaultTemplate(spec.template);
  }
}

/** ValidateDeployment / ValidateReplicaSet and their updates. */
export function validateWorkload(obj: KubeObject, old: KubeObject | undefined, errs: FieldError[], r: ResourceType): void {
  const spec = obj.spec;
  const kind = r.resource === 'deployments' ? 'deployment' : 'replicaset';
  validateSelectorAndTemplate(spec, errs, kind);
  if (typeof spec?.replicas === 'number' && spec.replicas < 0) errs.push(field.invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  validatePodSpec(spec?.template?.spec, 'spec.template.spec', errs);
  if (spec?.template?.spec?.restartPolicy && spec.template.spec.restartPolicy !== 'Always') {
    errs.push(field.notSupported('spec.template.spec.restartPolicy', spec.template.spec.restartPolicy, ['Always']));
  }
  if (old && !deepEqual(spec?.selector, old.spec?.selector)) {
    errs.push(invalidRaw('spec.selector', goLabelSelector(spec?.selector), 'field is immutable'));
  }
  const strategy = spec?.strategy;
  if (kind === 'deployment' && strategy) {
    // ValidateDeploymentStrategy / ValidateRollingUpdateDeployment (K pkg/apis/apps/validation/validation.go).
    if (!['RollingUpdate', 'Recreate'].includes(strategy.type)) errs.push(field.notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
    if (strategy.type === 'Recreate' && strategy.rollingUpdate) {
      errs.push(field.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
    }
    const ru = strategy.rollingUpdate;
    const zero = (v: unknown) => v === 0 || v === '0%' || v === '0';
    if (strategy.type === 'RollingUpdate' && ru && zero(ru.maxUnavailable) && zero(ru.maxSurge)) {
      const v = typeof ru.maxUnavailable === 'number' ? `intstr.IntOrString{Type:0, IntVal:0, StrVal:""}` : `intstr.IntOrString{Type:1, IntVal:0, StrVal:${JSON.stringify(ru.maxUnavailable)}}`;
      errs.push(invalidRaw('spec.strategy.rollingUpdate.maxUnavailable', v, 'may not be 0 when `maxSurge` is 0'));
    }
  }
}
