/** The Service strategy: defaults and validation (allocation of cluster IPs and node ports: ../service-ips.ts). */
import type { KubeObject } from '../../types.js';
import { field, type FieldError } from '../../machinery/errors.js';
import { isPlainObject } from '../patch.js';

/** SetDefaults_Service. */
export function defaultService(obj: KubeObject): void {
  const spec = obj.spec;
  if (isPlainObject(spec)) {
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (spec.type !== 'ExternalName') {
      spec.internalTrafficPolicy ??= 'Cluster';
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
    for (const p of spec.ports ?? []) {
      if (!isPlainObject(p)) continue;
      p.protocol ??= 'TCP';
      // An unset targetPort (absent, 0 or "", as Go clients send it) defaults to port (K pkg/apis/core/v1/defaults.go SetDefaults_Service).
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
  }
  obj.status ??= { loadBalancer: {} };
}

/** ValidateService / ValidateServiceUpdate (what the sandbox checks of them). */
export function validateService(obj: KubeObject, old: KubeObject | undefined, errs: FieldError[]): void {
  const spec = obj.spec;
  const type = spec?.type;
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(type)) errs.push(field.notSupported('spec.type', type, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']));
  if (type !== 'ExternalName' && spec?.clusterIP !== 'None' && !(spec?.ports ?? []).length) errs.push(field.required('spec.ports'));
  const names = new Set<string>();
  (spec?.ports ?? []).forEach((p: any, i: number) => {
    if ((spec.ports.length > 1 || p?.name) && !p?.name && spec.ports.length > 1) errs.push(field.required(`spec.ports[${i}].name`));
    if (p?.name) {
      if (names.has(p.name)) errs.push(field.duplicate(`spec.ports[${i}].name`, p.name));
      names.add(p.name);
    }
    if (typeof p?.port !== 'number' || p.port < 1 || p.port > 65535) errs.push(field.invalid(`spec.ports[${i}].port`, p?.port ?? 0, 'must be between 1 and 65535, inclusive'));
  });
  if (old && old.spec?.clusterIP && old.spec.clusterIP !== spec?.clusterIP && old.spec?.type !== 'ExternalName' && type !== 'ExternalName') {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', body: `Invalid value: []string{${(spec?.clusterIPs ?? [spec?.clusterIP ?? '']).map((x: string) => JSON.stringify(x)).join(', ')}}: may not change once set` });
  }
}
