/** PodSpec defaults and validation, shared by pods and every pod template (K pkg/apis/core/v1/defaults.go, K pkg/apis/core/validation). */
import { type FieldError, field } from '../../machinery/errors.js';
import { isPlainObject } from '../patch.js';
import { fromLabelSelector, labelsMatch } from '../selectors.js';
import { goLabelSelector, invalidRaw } from './meta.js';
import { isDNS1123Label } from './names.js';

function defaultProbe(p: any): void {
  if (!isPlainObject(p)) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (isPlainObject(p.httpGet)) {
    p.httpGet.path ??= '/';
    p.httpGet.scheme ??= 'HTTP';
  }
}

function defaultContainer(c: any): void {
  if (!isPlainObject(c)) return;
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (!c.imagePullPolicy && typeof c.image === 'string') {
    // SetDefaults_Container: Always for ":latest" or no tag, IfNotPresent otherwise (digests count as tagged).
    const img: string = c.image;
    const last = img.split('/').pop() ?? img;
    const tag = img.includes('@') ? 'digest' : last.includes(':') ? last.split(':').pop() : '';
    c.imagePullPolicy = !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  c.resources ??= {};
  for (const p of c.ports ?? []) if (isPlainObject(p)) p.protocol ??= 'TCP';
  for (const e of c.env ?? []) {
    const ref = e?.valueFrom?.fieldRef;
    if (isPlainObject(ref)) ref.apiVersion ??= 'v1';
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

/** SetDefaults_PodSpec (also used for templates). */
export function defaultPodSpec(spec: any): void {
  if (!isPlainObject(spec)) return;
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (!isPlainObject(v)) continue;
    if (isPlainObject(v.secret)) v.secret.defaultMode ??= 420;
    if (isPlainObject(v.configMap)) v.configMap.defaultMode ??= 420;
    if (isPlainObject(v.projected)) v.projected.defaultMode ??= 420;
    if (isPlainObject(v.downwardAPI)) v.downwardAPI.defaultMode ??= 420;
  }
}

export function defaultTemplate(t: any): void {
  if (!isPlainObject(t)) return;
  defaultPodSpec(t.spec);
}

function validateContainers(list: unknown, path: string, errs: FieldError[], required: boolean): void {
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    if (required) errs.push(field.required(path));
    return;
  }
  if (!Array.isArray(list)) {
    errs.push(field.invalid(path, list, 'must be a list'));
    return;
  }
  const seen = new Set<string>();
  list.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!c?.name) errs.push(field.required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(c.name)) errs.push(field.invalid(`${p}.name`, c.name, m));
      if (seen.has(c.name)) errs.push(field.duplicate(`${p}.name`, c.name));
      seen.add(c.name);
    }
    if (!c?.image) errs.push(field.required(`${p}.image`));
    for (const [j, port] of (c?.ports ?? []).entries()) {
      if (typeof port?.containerPort !== 'number' || port.containerPort < 1 || port.containerPort > 65535) {
        errs.push(field.invalid(`${p}.ports[${j}].containerPort`, port?.containerPort ?? 0, 'must be between 1 and 65535, inclusive'));
      }
    }
    for (const [j, e] of (c?.env ?? []).entries()) if (!e?.name) errs.push(field.required(`${p}.env[${j}].name`));
  });
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos',
  'csi', 'ephemeral', 'image',
];

/** Volumes (names unique, exactly one source) and volumeMounts referring to them (K ValidateVolumes, validateVolumeMounts). */
function validateVolumes(spec: any, path: string, errs: FieldError[]): void {
  const names = new Set<string>();
  (spec.volumes ?? []).forEach((v: any, i: number) => {
    const p = `${path}.volumes[${i}]`;
    if (!v?.name) errs.push(field.required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(v.name)) errs.push(field.invalid(`${p}.name`, v.name, m));
      if (names.has(v.name)) errs.push(field.duplicate(`${p}.name`, v.name));
      names.add(v.name);
    }
    const sources = VOLUME_SOURCES.filter((s) => v?.[s] !== undefined && v?.[s] !== null);
    if (sources.length === 0) errs.push(field.required(p, 'must specify a volume type'));
    else if (sources.length > 1) errs.push(field.forbidden(`${p}.${sources[1]}`, 'may not specify more than 1 volume type'));
  });
  for (const list of ['initContainers', 'containers']) {
    (spec[list] ?? []).forEach((c: any, i: number) => {
      (c?.volumeMounts ?? []).forEach((m: any, j: number) => {
        const p = `${path}.${list}[${i}].volumeMounts[${j}]`;
        if (!m?.name) errs.push(field.required(`${p}.name`));
        else if (!names.has(m.name)) errs.push(field.notFound(`${p}.name`, m.name));
        if (!m?.mountPath) errs.push(field.required(`${p}.mountPath`));
      });
    });
  }
}

export function validatePodSpec(spec: any, path: string, errs: FieldError[]): void {
  if (!isPlainObject(spec)) {
    errs.push(field.required(path));
    return;
  }
  validateVolumes(spec, path, errs);
  validateContainers(spec.containers, `${path}.containers`, errs, true);
  validateContainers(spec.initContainers, `${path}.initContainers`, errs, false);
  if (!['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) {
    errs.push(field.notSupported(`${path}.restartPolicy`, spec.restartPolicy, ['Always', 'OnFailure', 'Never']));
  }
  if (!['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'].includes(spec.dnsPolicy)) {
    errs.push(field.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']));
  }
}

export function validateSelectorAndTemplate(spec: any, errs: FieldError[], kind: string): void {
  const sel = spec?.selector;
  if (!sel) errs.push(field.required('spec.selector'));
  else if (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length) {
    errs.push(invalidRaw('spec.selector', goLabelSelector(sel), `empty selector is invalid for ${kind}`));
  }
  const labels = spec?.template?.metadata?.labels;
  if (sel && !labelsMatch(fromLabelSelector(sel), labels ?? {})) {
    errs.push(field.invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'));
  }
}
