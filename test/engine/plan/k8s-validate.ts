/**
 * Test helper: checks a planned object the way a real API server would.
 * 1. The official OpenAPI schema (kubernetes-models `validate()`): required fields and types.
 * 2. No unknown fields (kubernetes-models accepts them; the API server drops or rejects them), checked
 *    against @kubernetes/client-node's generated model metadata.
 * 3. The server-side rules the schema cannot express: DNS names, label keys and values, annotation keys,
 *    selector matching the pod template, restartPolicy of Job pods, ConfigMap keys and size.
 */
import * as k8s from '@kubernetes/client-node';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';

const models: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/Ingress': Ingress,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === undefined || value === null) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) out.push(`${path}: expected an array`);
    else value.forEach((v, i) => unknownFields(v, array[1] as string, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [k, v] of Object.entries(value as object)) unknownFields(v, map[1] as string, `${path}.${k}`, out);
    return;
  }
  const model = (k8s as unknown as Record<string, { attributeTypeMap?: { baseName: string; type: string }[] }>)[type];
  if (model?.attributeTypeMap === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.push(`${path}: expected an object`);
    return;
  }
  const attributes = new Map(model.attributeTypeMap.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = attributes.get(k);
    if (t === undefined) out.push(`${path}.${k}: unknown field of ${type}`);
    else if (v === undefined) out.push(`${path}.${k}: undefined (would vanish in JSON)`);
    else unknownFields(v, t, `${path}.${k}`, out);
  }
}

function checkLabels(labels: Record<string, string> | undefined, path: string, out: string[]): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    checkQualifiedKey(key, path, out);
    if (value.length > 63 || !LABEL_VALUE.test(value)) out.push(`${path}.${key}: invalid label value '${value}'`);
  }
}

function checkQualifiedKey(key: string, path: string, out: string[]): void {
  const parts = key.split('/');
  const name = parts.pop() as string;
  const prefix = parts.join('/');
  if (parts.length > 1 || (prefix !== '' && (prefix.length > 253 || !DNS_1123_SUBDOMAIN.test(prefix)))) out.push(`${path}: invalid key prefix in '${key}'`);
  if (name.length > 63 || !QUALIFIED_NAME.test(name)) out.push(`${path}: invalid key name in '${key}'`);
}

function checkPodTemplate(template: any, path: string, out: string[]): void {
  checkLabels(template?.metadata?.labels, `${path}.metadata.labels`, out);
  for (const key of Object.keys(template?.metadata?.annotations ?? {})) checkQualifiedKey(key, `${path}.metadata.annotations`, out);
  const spec = template?.spec;
  const volumes = new Set((spec?.volumes ?? []).map((v: any) => v.name));
  for (const c of spec?.containers ?? []) {
    if (!DNS_1123_LABEL.test(c.name)) out.push(`${path}: invalid container name '${c.name}'`);
    for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) out.push(`${path}: mount of unknown volume '${m.name}'`);
    for (const e of c.env ?? []) if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(e.name)) out.push(`${path}: invalid env var name '${e.name}'`);
    for (const p of c.ports ?? []) if (p.name !== undefined && (p.name.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name))) out.push(`${path}: invalid port name`);
  }
  for (const v of spec?.volumes ?? []) {
    for (const source of v.projected?.sources ?? []) {
      for (const item of source.configMap?.items ?? []) {
        if (item.path.startsWith('/') || item.path.split('/').includes('..')) out.push(`${path}: invalid projected path '${item.path}'`);
      }
    }
  }
}

/** Every reason the API server would refuse `object`; empty when it would accept it. */
export function apiServerProblems(object: any): string[] {
  const out: string[] = [];
  const id = `${object.apiVersion}/${object.kind}`;
  const Model = models[id];
  if (Model === undefined) return [`no model for ${id}`];
  try {
    new Model(JSON.parse(JSON.stringify(object))).validate();
  } catch (e) {
    out.push(`schema: ${(e as Error).message}`);
  }
  unknownFields(object, `V1${object.kind}`, object.kind, out);

  const meta = object.metadata ?? {};
  const name: string = meta.name ?? '';
  const nameRule = object.kind === 'Service' ? DNS_1035_LABEL : object.kind === 'Namespace' ? DNS_1123_LABEL : DNS_1123_SUBDOMAIN;
  // Jobs' names become their pods' job-name label values, so they are bounded like labels.
  const maxName = ['Service', 'Namespace', 'Job'].includes(object.kind) ? 63 : 253;
  if (name.length > maxName || !nameRule.test(name)) out.push(`metadata.name: invalid ${object.kind} name '${name}'`);
  if (object.kind !== 'Namespace' && !(typeof meta.namespace === 'string' && DNS_1123_LABEL.test(meta.namespace))) out.push('metadata.namespace: missing or invalid');
  checkLabels(meta.labels, 'metadata.labels', out);
  for (const key of Object.keys(meta.annotations ?? {})) checkQualifiedKey(key, 'metadata.annotations', out);

  if (object.kind === 'Job') {
    const policy = object.spec?.template?.spec?.restartPolicy;
    if (policy !== 'Never' && policy !== 'OnFailure') out.push(`Job pods must have restartPolicy Never or OnFailure, not ${policy}`);
    checkPodTemplate(object.spec?.template, 'spec.template', out);
  }
  if (object.kind === 'Deployment') {
    const selector: Record<string, string> = object.spec?.selector?.matchLabels ?? {};
    const labels: Record<string, string> = object.spec?.template?.metadata?.labels ?? {};
    if (Object.keys(selector).length === 0) out.push('spec.selector: empty');
    for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) out.push(`spec.selector: '${k}=${v}' does not match the template labels`);
    checkLabels(selector, 'spec.selector.matchLabels', out);
    const policy = object.spec?.template?.spec?.restartPolicy;
    if (policy !== undefined && policy !== 'Always') out.push('Deployment pods must have restartPolicy Always');
    checkPodTemplate(object.spec?.template, 'spec.template', out);
  }
  if (object.kind === 'Service') {
    for (const p of object.spec?.ports ?? []) if (!(p.port >= 1 && p.port <= 65535)) out.push(`spec.ports: invalid port ${p.port}`);
  }
  if (object.kind === 'Ingress') {
    for (const rule of object.spec?.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(p.pathType)) out.push('ingress pathType missing or invalid');
        if (!String(p.path).startsWith('/')) out.push('ingress path must be absolute');
      }
    }
  }
  if (object.kind === 'ConfigMap') {
    const keys = [...Object.keys(object.data ?? {}), ...Object.keys(object.binaryData ?? {})];
    if (new Set(keys).size !== keys.length) out.push('ConfigMap: a key is in both data and binaryData');
    for (const key of keys) if (key.length > 253 || !CONFIGMAP_KEY.test(key) || key === '.' || key.startsWith('..')) out.push(`ConfigMap: invalid key '${key}'`);
    if (Buffer.byteLength(JSON.stringify(object)) > 1024 * 1024) out.push('ConfigMap: larger than 1 MiB');
  }
  return out;
}
