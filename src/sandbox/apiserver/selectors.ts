/**
 * Field selectors (AM pkg/fields/selector.go), with the per-kind selectable fields of the upstream registries, and
 * list/watch filters; label selectors are machinery/labels.ts, shared with the controllers.
 */
import type { KubeObject, ResourceType } from '../types.js';
import { badRequest } from '../machinery/errors.js';
import { labelsMatch, parseLabelSelector, type LabelSelectorReqs } from '../machinery/labels.js';

export { fromLabelSelector, labelsMatch, parseLabelSelector, type LabelRequirement, type LabelSelectorReqs } from '../machinery/labels.js';

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
