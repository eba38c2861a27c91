/**
 * Label selectors (AM pkg/labels/selector.go; AM pkg/apis/meta/v1/helpers.go LabelSelectorAsSelector): the string
 * form of list/watch queries and the metav1.LabelSelector of specs, matched by one function.
 */
import { badRequest } from './errors.js';

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

/** metav1.LabelSelector as the API carries it in specs. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** metav1.LabelSelector (matchLabels + matchExpressions) as requirements. An empty selector matches everything. */
export function fromLabelSelector(sel: LabelSelector | undefined): LabelSelectorReqs {
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
      default:
        // Not a selector operator (upstream LabelSelectorAsSelector fails): nothing matches.
        reqs.push({ key: e.key, op: 'in', values: [] });
    }
  }
  return reqs;
}

/** Whether a spec's selector selects these labels. An empty selector matches everything; a missing one nothing. */
export function selectorMatches(sel: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  return labelsMatch(fromLabelSelector(sel), labels);
}
