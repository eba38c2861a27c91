/**
 * Helpers shared by the in-process controllers and the kubelet: a keyed work queue, time formatting,
 * label selectors, owner references and the small pod predicates upstream keeps in
 * K pkg/api/v1/pod/util.go and K pkg/controller/controller_utils.go.
 */
import { errorMessage } from '../../engine/errors.js';
import { isStatusError } from '../machinery/errors.js';
import type { ClusterStore, KubeObject, OwnerReference } from '../types.js';

/** Something to log controller trouble to; defaults to nothing (controllers must never crash the host). */
export type LogFn = (message: string) => void;

/** metav1.Time: RFC3339 with second precision. */
export function nowRFC3339(now = Date.now()): string {
  return new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** RFC3339Nano as Go prints it (trailing zeros of the fraction trimmed), used for log timestamps. */
export function rfc3339Nano(ms: number, subMsNanos = 0): string {
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  const base = iso.slice(0, 19);
  const nanos = (ms % 1000) * 1_000_000 + subMsNanos;
  if (nanos === 0) return `${base}Z`;
  const frac = String(nanos).padStart(9, '0').replace(/0+$/, '');
  return `${base}.${frac}Z`;
}

export function parseTime(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

export function httpCode(err: unknown): number | undefined {
  if (isStatusError(err)) return err.code;
  const e = err as { code?: unknown; status?: { code?: unknown } } | undefined;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.status?.code === 'number') return e.status.code;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => httpCode(err) === 404;
export const isConflict = (err: unknown): boolean => httpCode(err) === 409;

// One home for it (engine/errors.ts); re-exported for the sandbox's many users.
export { errorMessage };

export function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/**
 * The keys (`ns/name`) of the controllers of kind `ownerKind` (stored under `ownerKey`) that should look at
 * `obj`: its controller, or when it has none, every owner-kind object whose selector matches it (adoption),
 * as upstream's resolveControllerRef / getReplicaSetsForPod do.
 */
export function controllersOf(store: ClusterStore, obj: KubeObject, ownerKind: string, ownerKey: string): string[] {
  const ns = obj.metadata.namespace!;
  const ref = controllerRef(obj);
  if (ref) return ref.kind === ownerKind ? [`${ns}/${ref.name}`] : [];
  return store
    .list(ownerKey, ns)
    .items.filter((owner) => selectorMatches(owner.spec?.selector, obj.metadata.labels))
    .map((owner) => `${ns}/${owner.metadata.name}`);
}

export function ownerRefTo(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Label selectors (metav1.LabelSelector; AM pkg/apis/meta/v1/helpers.go LabelSelectorAsSelector)

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** An empty selector matches everything; a missing (undefined) selector matches nothing. */
export function selectorMatches(sel: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !vals.includes(l[e.key])) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(l[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Pod predicates

export function podCondition(pod: KubeObject, type: string): any {
  return (pod.status?.conditions as any[] | undefined)?.find((c) => c.type === type);
}

/** K pkg/api/v1/pod/util.go IsPodReady. */
export function isPodReady(pod: KubeObject): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** K pkg/api/v1/pod/util.go IsPodAvailable: Ready for at least minReadySeconds. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now = Date.now()): boolean {
  const c = podCondition(pod, 'Ready');
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const t = parseTime(c.lastTransitionTime);
  return t !== undefined && t + minReadySeconds * 1000 <= now;
}

export function isTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** K pkg/controller/controller_utils.go IsPodActive. */
export function isPodActive(pod: KubeObject): boolean {
  return !isTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** Canonical JSON (sorted keys) for hashing and semantic equality. */
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

export function deepEqual(a: unknown, b: unknown): boolean {
  return canonicalJSON(a) === canonicalJSON(b);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Resolves an IntOrString against a total (K apimachinery intstr.GetScaledValueFromIntOrPercent). */
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

// ---------------------------------------------------------------------------------------------------------------
// Work queue

export interface WorkQueueOptions {
  /** First retry delay after a failed sync (doubles per consecutive failure). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  log?: LogFn;
  name?: string;
}

/**
 * A keyed work queue like client-go's workqueue: a key queued several times is processed once; a key is never
 * processed by two workers at once (re-added while processing -> processed again afterwards); failures are
 * retried with exponential backoff; `addAfter` is for real deadlines only.
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private scheduled = false;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly handler: (key: string) => void | Promise<void>,
    private readonly opts: WorkQueueOptions = {},
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queued.add(key);
    this.schedule();
  }

  /** Adds the key after `ms`; an earlier pending deadline for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const due = Date.now() + ms;
    const existing = this.timers.get(key) as (NodeJS.Timeout & { due?: number }) | undefined;
    if (existing && existing.due !== undefined && existing.due <= due) return;
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms) as NodeJS.Timeout & { due?: number };
    t.due = due;
    t.unref?.();
    this.timers.set(key, t);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    const keys = [...this.queued];
    this.queued.clear();
    const work = keys.map(async (key) => {
      this.processing.add(key);
      try {
        await this.handler(key);
        this.failures.delete(key);
      } catch (err) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const base = this.opts.retryBaseMs ?? 5;
        const delay = Math.min(base * 2 ** (n - 1), this.opts.retryMaxMs ?? 5_000);
        if (!isConflict(err)) this.opts.log?.(`${this.opts.name ?? 'controller'}: sync ${key} failed (retry in ${delay}ms): ${errorMessage(err)}`);
        this.addAfter(key, delay);
      } finally {
        this.processing.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
    });
    const p = Promise.all(work).then(() => undefined);
    this.running = p;
    await p;
  }

  /** Resolves when nothing is queued or being processed (timers excluded). */
  async idle(): Promise<void> {
    while (this.queued.size || this.processing.size || this.scheduled) {
      await (this.running ?? new Promise((r) => setImmediate(r)));
      await new Promise((r) => setImmediate(r));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queued.clear();
    await this.running;
  }
}

/** Lists objects of one resource in a namespace (all namespaces when undefined). */
export function listAll(store: ClusterStore, key: string, namespace?: string): KubeObject[] {
  return store.list(key, namespace).items;
}
