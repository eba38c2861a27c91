/**
 * Per-kind defaulting and validation, after the upstream registries' strategies and the v1 defaulters:
 * K pkg/apis/core/v1/defaults.go, apps/v1/defaults.go, batch/v1/defaults.go; K pkg/apis/core/validation/validation.go,
 * apps/validation, batch/validation; K pkg/registry/batch/job/strategy.go (generated selector).
 */
import type { KubeObject, ResourceType } from '../types.js';
import { type FieldError, field, formatValue, invalid } from '../machinery/errors.js';
import { deepEqual, isPlainObject } from './patch.js';
import { fromLabelSelector, labelsMatch } from './selectors.js';

// ---------------------------------------------------------------------------------------------------------------
// Names (AM pkg/util/validation/validation.go)

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';

/** RegexError: examples are joined with "', " + " or " (hence the double space upstream prints). */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  let s = msg + ' (e.g. ';
  examples.forEach((e, i) => {
    if (i > 0) s += ' or ';
    s += `'${e}', `;
  });
  return s + `regex used for validation is '${fmt}')`;
}

export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!new RegExp(`^${DNS1123_LABEL}$`).test(v)) {
    if (new RegExp(`^${DNS1123_SUBDOMAIN}$`).test(v)) errs.push('must not contain dots');
    else
      errs.push(
        regexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
          DNS1123_LABEL,
          'my-name',
          '123-abc',
        ),
      );
  }
  return errs;
}

export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!new RegExp(`^${DNS1123_SUBDOMAIN}$`).test(v)) {
    errs.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        DNS1123_SUBDOMAIN,
        'example.com',
      ),
    );
  }
  return errs;
}

export function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!new RegExp(`^${DNS1035_LABEL}$`).test(v)) {
    errs.push(
      regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        DNS1035_LABEL,
        'my-name',
        'abc-123',
      ),
    );
  }
  return errs;
}

/** ValidatePathSegmentName (RBAC objects). */
function isPathSegmentName(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  const errs: string[] = [];
  for (const ch of ['/', '%']) if (v.includes(ch)) errs.push(`may not contain '${ch}'`);
  return errs;
}

function nameValidator(r: ResourceType): (v: string) => string[] {
  if (r.resource === 'services') return isDNS1035Label;
  if (r.resource === 'namespaces') return isDNS1123Label;
  if (r.group === 'rbac.authorization.k8s.io') return isPathSegmentName;
  return isDNS1123Subdomain;
}

// ---------------------------------------------------------------------------------------------------------------
// Defaults


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

function defaultTemplate(t: any): void {
  if (!isPlainObject(t)) return;
  defaultPodSpec(t.spec);
}

/**
 * Drops JSON nulls inside an object, in place. The real server decodes into Go structs, where `null`
 * for an optional field is the zero value, which encodes as absent: kubectl sends pod templates with
 * `metadata.creationTimestamp: null` (e.g. `rollout undo`), and a template stored with it must still
 * equal the same template without it (the Deployment controller's EqualIgnoreHash compares structs).
 * Maps keep null entries out as well (Go's map[string]string cannot hold one). List items stay.
 */
export function dropNulls(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) dropNulls(item);
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === null) delete (value as Record<string, unknown>)[k];
      else dropNulls(v);
    }
  }
}

/** Defaults filled on every write (create and update), as the decoder's defaulting does upstream. */
export function applyDefaults(r: ResourceType, obj: KubeObject): void {
  dropNulls(obj);
  const spec = obj.spec;
  switch (keyOfType(r)) {
    case 'pods':
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
      break;
    case 'apps/deployments':
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
      break;
    case 'apps/replicasets':
      if (isPlainObject(spec)) {
        spec.replicas ??= 1;
        defaultTemplate(spec.template);
      }
      break;
    case 'batch/jobs':
      if (isPlainObject(spec)) {
        // SetDefaults_Job
        if (spec.completions == null && spec.parallelism == null) {
          spec.completions = 1;
          spec.parallelism = 1;
        }
        spec.parallelism ??= 1;
        if (spec.backoffLimit == null) spec.backoffLimit = spec.backoffLimitPerIndex != null ? 2147483647 : 6;
        spec.completionMode ??= 'NonIndexed';
        spec.suspend ??= false;
        spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
        defaultTemplate(spec.template);
      }
      break;
    case 'batch/cronjobs':
      if (isPlainObject(spec)) {
        // SetDefaults_CronJob; the job template's pod spec gets the PodSpec defaults.
        spec.concurrencyPolicy ??= 'Allow';
        spec.suspend ??= false;
        spec.successfulJobsHistoryLimit ??= 3;
        spec.failedJobsHistoryLimit ??= 1;
        defaultTemplate(spec.jobTemplate?.spec?.template);
      }
      break;
    case 'services':
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
      break;
    case 'secrets': {
      obj.type ??= 'Opaque';
      // stringData is write-only: merged into data (base64) and dropped (K pkg/apis/core/v1/conversion.go).
      if (isPlainObject(obj.stringData)) {
        obj.data = { ...(obj.data ?? {}) };
        for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      }
      delete obj.stringData;
      break;
    }
    case 'namespaces':
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
      obj.spec ??= {};
      break;
    case 'networking.k8s.io/ingresses':
      obj.status ??= { loadBalancer: {} };
      break;
    case 'coordination.k8s.io/leases':
      obj.spec ??= {};
      break;
  }
}

export function keyOfType(r: ResourceType): string {
  return r.group ? `${r.group}/${r.resource}` : r.resource;
}

/** Kinds whose metadata.generation tracks spec changes. */
export function hasGeneration(r: ResourceType): boolean {
  return ['apps/deployments', 'apps/replicasets', 'batch/jobs', 'batch/cronjobs', 'networking.k8s.io/ingresses'].includes(keyOfType(r));
}

/** Generated Job selector and template labels (K pkg/registry/batch/job/strategy.go generateSelector). */
export function generateJobSelector(obj: KubeObject): void {
  const spec = obj.spec;
  if (!isPlainObject(spec) || spec.manualSelector === true) return;
  const uid = obj.metadata.uid!;
  const name = obj.metadata.name!;
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.labels = {
    ...(spec.template.metadata.labels ?? {}),
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
  if (!spec.selector) spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

/** Go's `%#v` of a metav1.LabelSelector, as the immutable-selector error prints it. */
function goLabelSelector(sel: any): string {
  const ml = sel?.matchLabels && Object.keys(sel.matchLabels).length ? formatValue(sel.matchLabels) : 'map[string]string(nil)';
  const me = sel?.matchExpressions?.length
    ? `[]v1.LabelSelectorRequirement{${sel.matchExpressions
        .map((e: any) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key)}, Operator:${JSON.stringify(e.operator)}, Values:[]string{${(e.values ?? []).map((v: string) => JSON.stringify(v)).join(', ')}}}`)
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

function invalidRaw(path: string, rendered: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: path, body: `Invalid value: ${rendered}: ${detail}` };
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

function validatePodSpec(spec: any, path: string, errs: FieldError[]): void {
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

function validateSelectorAndTemplate(spec: any, errs: FieldError[], kind: string): void {
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

function validateMeta(r: ResourceType, obj: KubeObject, errs: FieldError[]): void {
  const name = obj.metadata?.name;
  if (!name) {
    if (!obj.metadata?.generateName) errs.push(field.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const m of nameValidator(r)(name)) errs.push(field.invalid('metadata.name', name, m));
  }
  const meta = obj.metadata ?? {};
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(field.invalid('metadata.labels', k, m));
    for (const m of isValidLabelValue(String(v))) errs.push(field.invalid('metadata.labels', v, m));
  }
  for (const k of Object.keys(meta.annotations ?? {})) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(field.invalid('metadata.annotations', k, m));
  }
  const annSize = Object.entries(meta.annotations ?? {}).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
  if (annSize > 262144) errs.push({ type: 'FieldValueTooLong', field: 'metadata.annotations', body: 'Too long: must have at most 262144 bytes' });
  const fins: string[] = meta.finalizers ?? [];
  for (const f of fins) for (const m of isQualifiedName(f)) errs.push(field.invalid('metadata.finalizers', f, m));
  if (fins.includes('orphan') && fins.includes('foregroundDeletion')) {
    errs.push(field.invalid('metadata.finalizers', fins, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  // ValidateOwnerReferences (AM pkg/api/validation/objectmeta.go).
  let controllers = 0;
  for (const ref of meta.ownerReferences ?? []) {
    if (!ref?.apiVersion) errs.push(field.invalid('metadata.ownerReferences.apiVersion', '', 'version must not be empty'));
    if (!ref?.kind) errs.push(field.invalid('metadata.ownerReferences.kind', '', 'kind must not be empty'));
    if (!ref?.name) errs.push(field.invalid('metadata.ownerReferences.name', '', 'name must not be empty'));
    if (!ref?.uid) errs.push(field.invalid('metadata.ownerReferences.uid', '', 'uid must not be empty'));
    if (ref?.controller) controllers++;
  }
  if (controllers > 1) {
    const names = (meta.ownerReferences ?? []).filter((x) => x.controller).map((x) => `${x.kind}/${x.name}`);
    errs.push({ type: 'FieldValueInvalid', field: 'metadata.ownerReferences', body: `Invalid value: ${JSON.stringify(meta.ownerReferences)}: Only one reference can have Controller set to true. Found "true" in references for ${names[0]} and ${names[1]}` });
  }
}

const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** IsQualifiedName: `[prefix/]name` (label keys, annotation keys, finalizers). */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0];
  else if (parts.length === 2) {
    name = parts[1];
    if (!parts[0]) errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(parts[0]).map((m) => `prefix part ${m}`));
  } else {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (!name) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!new RegExp(`^${QUALIFIED_NAME}$`).test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** IsValidLabelValue. */
export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!new RegExp(`^(${QUALIFIED_NAME})?$`).test(v)) {
    errs.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        `(${QUALIFIED_NAME})?`,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  }
  return errs;
}

const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** cron.ParseStandard's verdict on a schedule (robfig/cron), reduced to the common mistakes; '' when valid. */
function cronScheduleError(schedule: string): string {
  if (/(^|\s)(CRON_)?TZ=/.test(schedule)) return 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead';
  const s = schedule.trim();
  if (s.startsWith('@')) {
    if (CRON_MACROS.has(s)) return '';
    if (/^@every \d+(\.\d+)?(ns|us|µs|ms|s|m|h)(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))*$/.test(s)) return '';
    return `unrecognized descriptor: ${s}`;
  }
  const fields = s.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  const names = /^[A-Za-z]{3}$/;
  const ranges = [
    [0, 59],
    [0, 23],
    [1, 31],
    [1, 12],
    [0, 6],
  ];
  for (let i = 0; i < 5; i++) {
    for (const part of fields[i].split(',')) {
      const m = part.match(/^(\*|\?|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/(\d+))?$/);
      if (!m) return `failed to parse int from ${part}: strconv.Atoi: parsing ${JSON.stringify(part)}: invalid syntax`;
      if (m[1] === '*' || m[1] === '?') continue;
      for (const v of m[1].split('-')) {
        if (names.test(v) && (i === 3 || i === 4)) continue;
        const n = Number(v);
        if (!Number.isInteger(n)) return `failed to parse int from ${v}: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`;
        if (n < ranges[i][0]) return `beginning of range (${n}) below minimum (${ranges[i][0]}): ${part}`;
        if (n > ranges[i][1]) return `end of range (${n}) above maximum (${ranges[i][1]}): ${part}`;
      }
    }
  }
  return '';
}

/** Create/update validation. Throws 422 Invalid with every problem found. */
export function validate(r: ResourceType, obj: KubeObject, old?: KubeObject): void {
  const errs: FieldError[] = [];
  validateMeta(r, obj, errs);
  const spec = obj.spec;
  switch (keyOfType(r)) {
    case 'pods':
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
      break;
    case 'apps/deployments':
    case 'apps/replicasets': {
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
      break;
    }
    case 'batch/jobs': {
      if (spec?.manualSelector === true) validateSelectorAndTemplate(spec, errs, 'job');
      else if (spec?.selector && !labelsMatch(fromLabelSelector(spec.selector), spec?.template?.metadata?.labels ?? {})) {
        errs.push(field.invalid('spec.template.metadata.labels', spec?.template?.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
      }
      validatePodSpec(spec?.template?.spec, 'spec.template.spec', errs);
      const rp = spec?.template?.spec?.restartPolicy;
      if (rp !== 'OnFailure' && rp !== 'Never') errs.push(field.notSupported('spec.template.spec.restartPolicy', rp, ['OnFailure', 'Never']));
      for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
        if (typeof spec?.[f] === 'number' && spec[f] < 0) errs.push(field.invalid(`spec.${f}`, spec[f], 'must be greater than or equal to 0'));
      }
      if (!['NonIndexed', 'Indexed'].includes(spec?.completionMode)) errs.push(field.notSupported('spec.completionMode', spec?.completionMode, ['NonIndexed', 'Indexed']));
      if (old) {
        // ValidateJobSpecUpdate: selector, template (unless suspended scheduling directives), completionMode are immutable.
        if (!deepEqual(spec?.selector, old.spec?.selector)) errs.push(invalidRaw('spec.selector', goLabelSelector(spec?.selector), 'field is immutable'));
        if (!deepEqual(spec?.template, old.spec?.template)) errs.push(invalidRaw('spec.template', `core.PodTemplateSpec${JSON.stringify(spec?.template ?? {})}`, 'field is immutable'));
        if (spec?.completionMode !== old.spec?.completionMode) errs.push(field.invalid('spec.completionMode', spec?.completionMode, 'field is immutable'));
        // completions is immutable, except for elastic Indexed Jobs scaling completions together with parallelism.
        if (spec?.completions !== old.spec?.completions && !(spec?.completionMode === 'Indexed' && spec?.completions === spec?.parallelism)) {
          errs.push(field.invalid('spec.completions', spec?.completions ?? null, 'field is immutable'));
        }
      }
      break;
    }
    case 'batch/cronjobs': {
      // K pkg/apis/batch/validation/validation.go ValidateCronJob*: name <= 52 (job names get a suffix), schedule, policy.
      const name = obj.metadata?.name;
      if (name && name.length > 52) errs.push(field.invalid('metadata.name', name, 'must be no more than 52 characters'));
      const schedule = spec?.schedule;
      if (!schedule) errs.push(field.required('spec.schedule'));
      else {
        const msg = cronScheduleError(schedule);
        if (msg) errs.push(field.invalid('spec.schedule', schedule, msg));
      }
      if (!['Allow', 'Forbid', 'Replace'].includes(spec?.concurrencyPolicy)) errs.push(field.notSupported('spec.concurrencyPolicy', spec?.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
      for (const f of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) {
        if (typeof spec?.[f] === 'number' && spec[f] < 0) errs.push(field.invalid(`spec.${f}`, spec[f], 'must be greater than or equal to 0'));
      }
      const tpl = spec?.jobTemplate?.spec?.template;
      validatePodSpec(tpl?.spec, 'spec.jobTemplate.spec.template.spec', errs);
      const rp = tpl?.spec?.restartPolicy;
      if (rp !== 'OnFailure' && rp !== 'Never') errs.push(field.notSupported('spec.jobTemplate.spec.template.spec.restartPolicy', rp, ['OnFailure', 'Never']));
      break;
    }
    case 'services': {
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
      break;
    }
    case 'configmaps':
    case 'secrets': {
      const data = { ...(obj.data ?? {}), ...(obj.binaryData ?? {}) };
      for (const k of Object.keys(data)) {
        if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) {
          errs.push(field.invalid(`data[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
        }
      }
      if (r.resource === 'secrets') {
        for (const [k, v] of Object.entries(obj.data ?? {})) {
          if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
            errs.push(field.invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
          }
        }
      }
      if (old?.immutable === true) {
        if (obj.immutable !== true) errs.push(field.forbidden('immutable', 'field is immutable when `immutable` is set'));
        if (!deepEqual(obj.data ?? {}, old.data ?? {})) errs.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
        if (!deepEqual(obj.binaryData ?? {}, old.binaryData ?? {})) errs.push(field.forbidden('binaryData', 'field is immutable when `immutable` is set'));
      }
      if (r.resource === 'secrets' && old && obj.type !== old.type) errs.push(field.invalid('type', obj.type, 'field is immutable'));
      break;
    }
    case 'rbac.authorization.k8s.io/rolebindings':
    case 'rbac.authorization.k8s.io/clusterrolebindings':
      if (!obj.roleRef?.name) errs.push(field.required('roleRef.name'));
      if (old && !deepEqual(obj.roleRef, old.roleRef)) {
        errs.push(invalidRaw('roleRef', `rbac.RoleRef{APIGroup:${JSON.stringify(obj.roleRef?.apiGroup ?? '')}, Kind:${JSON.stringify(obj.roleRef?.kind ?? '')}, Name:${JSON.stringify(obj.roleRef?.name ?? '')}}`, 'cannot change roleRef'));
      }
      break;
    case 'networking.k8s.io/ingresses':
      (spec?.rules ?? []).forEach((rule: any, i: number) => {
        (rule?.http?.paths ?? []).forEach((p: any, j: number) => {
          const path = `spec.rules[${i}].http.paths[${j}].pathType`;
          if (!p?.pathType) errs.push(field.required(path, 'pathType must be specified'));
          else if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(p.pathType)) errs.push(field.notSupported(path, p.pathType, ['Exact', 'ImplementationSpecific', 'Prefix']));
        });
      });
      break;
  }
  if (errs.length) throw invalid({ group: r.group, kind: r.kind }, obj.metadata?.name ?? '', errs);
}
