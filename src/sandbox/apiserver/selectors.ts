/**
 * Label selectors (AM pkg/labels/selector.go) and field selectors (AM pkg/fields/selector.go), with the
 * per-kind selectable fields of the upstream registries.
 */
import type { KubeObject, ResourceType } from '../types.js';
import { badRequest } from '../machinery/errors.js';

export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: '=' | '!='; values: [string] };

export type LabelSelectorReqs = LabelRequirement[];

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k`. Throws 400 BadRequest on syntax errors. */
export function parseLabelSelector(sel: string | undefined): LabelSelectorReqs {
  const reqs: LabelSelectorReqs = [];
  if (!sel || !sel.trim()) return reqs;
  for (const raw of splitTop(sel)) {
    const part = raw.trim();
    if (!part) throw badRequest(`unable to parse requirement: found '', expected: identifier`);
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3].split(',').map((v) => v.trim()).filter((v) => v !== '');
      reqs.push({ key: checkKey(m[1]), op: m[2] as 'in' | 'notin', values });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: checkKey(m[1]), op: '!exists' });
    } else if ((m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      reqs.push({ key: checkKey(m[1]), op: m[2] === '!=' ? '!=' : '=', values: [m[3]] });
    } else if ((m = part.match(/^([^=!\s()]+)$/))) {
      reqs.push({ key: checkKey(m[1]), op: 'exists' });
    } else {
      throw badRequest(`unable to parse requirement: ${JSON.stringify(part)}`);
    }
  }
  return reqs;
}

function checkKey(k: string): string {
  if (!LABEL_KEY.test(k)) {
    throw badRequest(
      `unable to parse requirement: values[0][${k}]: Invalid value: ${JSON.stringify(k)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
  return k;
}

export function labelsMatch(reqs: LabelSelectorReqs, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
      case '=':
        if (!has || l[r.key] !== r.values[0]) return false;
        break;
      case '!=':
        if (has && l[r.key] === r.values[0]) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(l[r.key])) return false;
        break;
      case 'notin':
        if (has && r.values.includes(l[r.key])) return false;
        break;
    }
  }
  return true;
}

/** metav1.LabelSelector (matchLabels + matchExpressions) as requirements. An empty selector matches everything. */
export function fromLabelSelector(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): LabelSelectorReqs {
  const reqs: LabelSelectorReqs = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of sel?.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        reqs.push({ key: e.key, op: 'in', values: e.values ?? [] });
        break;
      case 'NotIn':
        reqs.push({ key: e.key, op: 'notin', values: e.values ?? [] });
        break;
      case 'Exists':
        reqs.push({ key: e.key, op: 'exists' });
        break;
      case 'DoesNotExist':
        reqs.push({ key: e.key, op: '!exists' });
        break;
    }
  }
  return reqs;
}

// ---------------------------------------------------------------------------------------------------------------
// Field selectors

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/**
 * Extra selectable fields per resource (besides metadata.name / metadata.namespace), from the upstream
 * registries' ToSelectableFields / GetAttrs (K pkg/registry/core/pod/strategy.go, event/strategy.go,
 * secret/strategy.go, namespace/strategy.go, node/strategy.go, batch/job/strategy.go, …).
 */
const SELECTABLE: Record<string, Record<string, (o: KubeObject) => string>> = {
  pods: {
    'spec.nodeName': (o) => o.spec?.nodeName ?? '',
    'spec.restartPolicy': (o) => o.spec?.restartPolicy ?? '',
    'spec.schedulerName': (o) => o.spec?.schedulerName ?? '',
    'spec.serviceAccountName': (o) => o.spec?.serviceAccountName ?? '',
    'spec.hostNetwork': (o) => String(Boolean(o.spec?.hostNetwork)),
    'status.phase': (o) => o.status?.phase ?? '',
    'status.podIP': (o) => o.status?.podIP ?? '',
    'status.nominatedNodeName': (o) => o.status?.nominatedNodeName ?? '',
  },
  events: {
    'involvedObject.kind': (o) => o.involvedObject?.kind ?? '',
    'involvedObject.namespace': (o) => o.involvedObject?.namespace ?? '',
    'involvedObject.name': (o) => o.involvedObject?.name ?? '',
    'involvedObject.uid': (o) => o.involvedObject?.uid ?? '',
    'involvedObject.apiVersion': (o) => o.involvedObject?.apiVersion ?? '',
    'involvedObject.resourceVersion': (o) => o.involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': (o) => o.involvedObject?.fieldPath ?? '',
    reason: (o) => o.reason ?? '',
    reportingComponent: (o) => o.reportingComponent ?? '',
    source: (o) => o.source?.component ?? '',
    type: (o) => o.type ?? '',
  },
  secrets: { type: (o) => o.type ?? '' },
  namespaces: { 'status.phase': (o) => o.status?.phase ?? '' },
  nodes: { 'spec.unschedulable': (o) => String(Boolean(o.spec?.unschedulable)) },
  'batch/jobs': { 'status.successful': (o) => String(o.status?.succeeded ?? 0) },
  'apps/replicasets': { 'status.replicas': (o) => String(o.status?.replicas ?? 0) },
};

function resKey(r: ResourceType): string {
  return r.group ? `${r.group}/${r.resource}` : r.resource;
}

/** Parses a field selector and checks every field is selectable for the resource (400 `field label not supported: X`). */
export function parseFieldSelector(sel: string | undefined, r: ResourceType): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (!sel || !sel.trim()) return out;
  for (const raw of sel.split(',')) {
    const part = raw.trim();
    const m = part.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${part}'`);
    const f = m[1].trim();
    if (f !== 'metadata.name' && f !== 'metadata.namespace' && !SELECTABLE[resKey(r)]?.[f]) {
      throw badRequest(`field label not supported: ${f}`);
    }
    out.push({ field: f, op: m[2] === '!=' ? '!=' : '=', value: m[3].trim() });
  }
  return out;
}

export function fieldsMatch(reqs: FieldRequirement[], r: ResourceType, o: KubeObject): boolean {
  for (const q of reqs) {
    let v: string;
    if (q.field === 'metadata.name') v = o.metadata.name ?? '';
    else if (q.field === 'metadata.namespace') v = o.metadata.namespace ?? '';
    else v = SELECTABLE[resKey(r)]![q.field](o);
    if ((q.op === '=') !== (v === q.value)) return false;
  }
  return true;
}

/** A compiled list/watch filter. */
export interface ObjectFilter {
  labels: LabelSelectorReqs;
  fields: FieldRequirement[];
}

export function compileFilter(r: ResourceType, labelSelector?: string, fieldSelector?: string): ObjectFilter {
  return { labels: parseLabelSelector(labelSelector), fields: parseFieldSelector(fieldSelector, r) };
}

export function filterMatches(f: ObjectFilter, r: ResourceType, o: KubeObject): boolean {
  return labelsMatch(f.labels, o.metadata.labels) && fieldsMatch(f.fields, r, o);
}
