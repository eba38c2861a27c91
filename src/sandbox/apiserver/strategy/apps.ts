/** The Deployment and ReplicaSet strategies (K pkg/registry/apps/{deployment,replicaset}/strategy.go), with their scale subresource. */
import type { KubeObject, ResourceType } from '../../types.js';
import { field, type FieldError, invalid } from '../../machinery/errors.js';
import { deepEqual, isPlainObject } from '../patch.js';
import { fromLabelSelector } from '../selectors.js';
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

/** The Scale (autoscaling/v1) view of a Deployment or ReplicaSet, as their scale subresources serve it. */
export function scaleOf(obj: KubeObject): KubeObject {
  const sel = obj.spec?.selector;
  const reqs = fromLabelSelector(sel);
  const selector = reqs
    .map((x) => (x.op === '=' ? `${x.key}=${x.values[0]}` : x.op === 'exists' ? x.key : x.op === '!exists' ? `!${x.key}` : `${x.key} ${x.op} (${(x as { values: string[] }).values.join(',')})`))
    .join(',');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector },
  };
}

/** The replicas a write to the scale subresource sets, from its Scale (K pkg/apis/autoscaling/validation ValidateScale). */
export function scaleReplicas(scale: KubeObject, name: string): number {
  let next: any = scale;
  // Scale.spec.replicas is a plain int32 with omitempty (k8s.io/api autoscaling/v1 types.go): absent means 0,
  // which is how Go clients (protobuf or JSON) send a scale to zero.
  if (next?.spec?.replicas === undefined) next = { ...next, spec: { ...next?.spec, replicas: 0 } };
  if (typeof next.spec.replicas !== 'number' || !Number.isInteger(next.spec.replicas)) {
    throw invalid({ group: 'autoscaling', kind: 'Scale' }, name, [field.invalid('spec.replicas', next.spec.replicas, 'must be an integer')]);
  }
  if (next.spec.replicas < 0) throw invalid({ group: 'autoscaling', kind: 'Scale' }, name, [field.invalid('spec.replicas', next.spec.replicas, 'must be greater than or equal to 0')]);
  return next.spec.replicas;
}
