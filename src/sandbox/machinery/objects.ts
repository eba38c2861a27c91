/** Keys, copies and comparisons of API objects, as the controllers' caches and queues use them. */
import { deepEqual } from '../../engine/kube/strategic-merge.js';
import type { KubeObject } from '../types.js';

// Semantic equality has one home (the engine's, which the API server's patching uses too).
export { deepEqual };

/** The work-queue key of a namespaced object: `namespace/name` (client-go MetaNamespaceKeyFunc). */
export function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Canonical JSON (sorted keys, undefined members left out): a stable rendering for hashing and grouping. */
export function canonicalJSON(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`)
    .join(',')}}`;
}

/** Resolves an IntOrString against a total (AM pkg/util/intstr GetScaledValueFromIntOrPercent). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, dflt: string): number {
  const val = v ?? dflt;
  if (typeof val === 'number') return val;
  const m = /^(\d+)%$/.exec(val);
  if (!m) {
    const n = Number(val);
    return Number.isInteger(n) ? n : 0;
  }
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}
