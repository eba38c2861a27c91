/** The pod strategy (K pkg/registry/core/pod/strategy.go): defaults, admission defaults, update rules. */
import type { ClusterStore, DeleteOptions, KubeObject, WriteOptions } from '../../types.js';
import { badRequest, conflict, field, type FieldError, forbidden, invalid } from '../../machinery/errors.js';
import { qosClass } from '../../machinery/qos.js';
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

/** The pod's QoS class and the ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount): the pod's ServiceAccount must exist. */
export function admitPod(obj: KubeObject, ns: string | undefined, serviceAccount: (name: string) => KubeObject | undefined): void {
  obj.status.qosClass = qosClass(obj.spec);
  const sa = obj.spec?.serviceAccountName;
  const account = sa ? serviceAccount(sa) : undefined;
  if (sa && !account) {
    throw forbidden({ group: '', resource: 'pods' }, obj.metadata.name ?? '', `error looking up service account ${ns}/${sa}: serviceaccount "${sa}" not found`);
  }
  // ServiceAccount admission: a pod that names no pull secrets gets its ServiceAccount's.
  const saPullSecrets = (account as KubeObject | undefined)?.imagePullSecrets;
  if (!obj.spec.imagePullSecrets?.length && Array.isArray(saPullSecrets) && saPullSecrets.length > 0) obj.spec.imagePullSecrets = structuredClone(saPullSecrets);
}

/**
 * The grace period of a pod's deletion (K pkg/registry/core/pod/strategy.go CheckGracefulDelete): unscheduled or
 * terminal pods go at once (0).
 */
export function podDeleteGrace(pod: KubeObject, dopts: DeleteOptions): number {
  let grace = dopts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  if (!pod.spec?.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') grace = 0;
  if (grace < 0) grace = 0;
  return grace;
}

/**
 * pods/binding (K pkg/registry/core/pod/storage/storage.go BindingREST): sets spec.nodeName of a pod once. `name` is
 * the pod's (the URL's over HTTP; in-process, the Binding's own). Answers the bound pod.
 */
export function bindPod(store: Pick<ClusterStore, 'get' | 'patch'>, ns: string | undefined, name: string, body: any, opts: WriteOptions): KubeObject {
  const target = body?.target;
  if (!target?.name) throw invalid({ group: '', kind: 'Binding' }, body?.metadata?.name ?? name, [field.required('target.name')]);
  if (body?.metadata?.name && body.metadata.name !== name) {
    throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  }
  const pod = store.get('pods', ns, name);
  if (pod.spec?.nodeName) {
    throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is already assigned to node ${JSON.stringify(pod.spec.nodeName)}`);
  }
  if (pod.metadata.deletionTimestamp) throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is being deleted, cannot be assigned to a host`);
  const uid = body?.metadata?.uid;
  if (uid && uid !== pod.metadata.uid) {
    throw conflict({ group: '', resource: 'pods/binding' }, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
  }
  return store.patch('pods', ns, name, 'merge', { metadata: { resourceVersion: pod.metadata.resourceVersion }, spec: { nodeName: target.name } }, { fieldManager: opts.fieldManager, dryRun: opts.dryRun });
}
