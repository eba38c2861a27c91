/**
 * The sandbox scheduler: binds every pending, unbound pod whose schedulerName is ours to the single sandbox node,
 * as kube-scheduler would after its filter/score cycle (K pkg/scheduler/schedule_one.go): `spec.nodeName` is set,
 * condition `PodScheduled=True` is added and the event `Scheduled` "Successfully assigned ns/pod to node" recorded.
 *
 * Filters: NodeUnschedulable, TaintToleration and NodeAffinity (node-filters.ts), then the NodeResourcesFit plugin
 * (K pkg/scheduler/framework/plugins/noderesources/fit.go). A pod fits when, for cpu and memory, its requests (K component-helpers resource.PodRequests: regular containers summed, init containers
 * as a max, sidecars added; a limit without a request counts as the request, as API defaulting makes it) plus the
 * requests of the non-terminal pods already bound to the node do not exceed the node's allocatable, and the node's
 * `pods` count is not exhausted; and for extended resources (`nvidia.com/gpu`) likewise, against what the Node object
 * advertises (none unless its status lists them, as a device plugin makes it). Allocatable is the Node object's
 * `status.allocatable` (the kubelet registers it from the configured capacity), else `capacity`, else this machine's
 * (os.cpus(), os.totalmem()).
 *
 * A pod that does not fit stays Pending with PodScheduled=False reason Unschedulable and the upstream message
 * (K pkg/scheduler/framework/types.go FitError.Error: "0/1 nodes are available: 1 Insufficient cpu." plus the
 * DefaultPreemption post-filter message), and a FailedScheduling Warning event. Unschedulable pods are retried, oldest
 * (highest priority) first, when capacity may have freed up: a pod on the node terminates or is deleted, or the Node
 * changes - as upstream's scheduling queue moves them back to the active queue on those cluster events.
 */
import os from 'node:os';
import type { ClusterStore, EventRecorder, KubeObject, StoreEvent } from '../types.js';
import { isExtendedResource, parseQuantity } from '../../engine/kube/quantity.js';
import { placementFailure } from './node-filters.js';
import { errorMessage } from '../../engine/errors.js';
import { isNotFound } from '../machinery/errors.js';
import type { LogFn } from '../machinery/log.js';
import { splitKey } from '../machinery/objects.js';
import { nowRFC3339 } from '../machinery/time.js';
import { WorkQueue } from '../machinery/workqueue.js';

export interface NodeCapacity {
  cpu?: string | number;
  memory?: string | number;
  pods?: string | number;
}

export interface SchedulerOptions {
  nodeName: string;
  events: EventRecorder;
  log?: LogFn;
  /** Fallback allocatable when the Node object does not exist or lacks status.allocatable (default: this machine's). */
  capacity?: NodeCapacity;
  /** An extra filter: undefined when the pod fits the node, else the reason (e.g. `node(s) had untolerated taint`). */
  fits?: (pod: KubeObject, nodeName: string) => string | undefined;
  /** Scheduler names handled (default: `default-scheduler`; pods without schedulerName too). */
  schedulerNames?: string[];
}

// Quantities: the engine's parser (engine/kube/quantity.ts)

export { parseQuantity } from '../../engine/kube/quantity.js';

/** Formats milli-cpu the way a Node's capacity reads (`2`, `1500m`). */
export function formatCpu(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Formats bytes the way a kubelet reports memory (`<n>Ki` when whole kibibytes, else bytes). */
export function formatMemory(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024}Ki` : String(bytes);
}

/** The Node capacity strings for the sandbox node (defaults: this machine's cpus and memory). */
export function nodeCapacity(c: NodeCapacity = {}): { cpu: string; memory: string } {
  return {
    cpu: c.cpu === undefined ? String(os.cpus().length) : formatCpu(parseQuantity(c.cpu, 3)),
    memory: c.memory === undefined ? formatMemory(Math.floor(os.totalmem() / 1024) * 1024) : formatMemory(parseQuantity(c.memory)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Requests (K staging/src/k8s.io/component-helpers/resource/helpers.go PodRequests)

export interface Requests {
  /** milli-cpu */
  cpu: number;
  /** bytes */
  memory: number;
}

function containerRequests(c: any): Requests {
  const get = (r: 'cpu' | 'memory', scale: number): number => {
    const q = c?.resources?.requests?.[r] ?? c?.resources?.limits?.[r];
    if (q === undefined || q === null || q === '') return 0;
    try {
      return Math.max(0, parseQuantity(q, scale));
    } catch {
      return 0;
    }
  };
  return { cpu: get('cpu', 3), memory: get('memory', 0) };
}

/** A pod's effective requests: max(sum of containers + sidecars, each init container + the sidecars before it) + overhead. */
export function podRequests(pod: KubeObject): Requests {
  const reqs: Requests = { cpu: 0, memory: 0 };
  for (const c of pod.spec?.containers ?? []) add(reqs, containerRequests(c));
  const sidecars: Requests = { cpu: 0, memory: 0 };
  const initMax: Requests = { cpu: 0, memory: 0 };
  for (const ic of pod.spec?.initContainers ?? []) {
    const r = containerRequests(ic);
    let cur: Requests;
    if (ic.restartPolicy === 'Always') {
      add(reqs, r);
      add(sidecars, r);
      cur = { ...sidecars };
    } else cur = { cpu: r.cpu + sidecars.cpu, memory: r.memory + sidecars.memory };
    initMax.cpu = Math.max(initMax.cpu, cur.cpu);
    initMax.memory = Math.max(initMax.memory, cur.memory);
  }
  reqs.cpu = Math.max(reqs.cpu, initMax.cpu);
  reqs.memory = Math.max(reqs.memory, initMax.memory);
  add(reqs, containerRequests({ resources: { requests: pod.spec?.overhead } }));
  return reqs;
}

function add(into: Requests, r: Requests): void {
  into.cpu += r.cpu;
  into.memory += r.memory;
}

/**
 * A pod's extended resources (`nvidia.com/gpu`), in whole units, by the same rule as podRequests: regular containers
 * and sidecars summed, each other init container (with the sidecars before it) as a max. A limit without a request
 * counts as the request, as defaulting makes it (extended resources cannot be overcommitted).
 */
export function podExtendedRequests(pod: KubeObject): Record<string, number> {
  const of = (c: any): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [name, q] of Object.entries({ ...c?.resources?.limits, ...c?.resources?.requests })) {
      if (!isExtendedResource(name)) continue;
      try {
        out[name] = Math.max(0, parseQuantity(q as string));
      } catch {
        // an invalid quantity never passed validation
      }
    }
    return out;
  };
  const plus = (a: Record<string, number>, b: Record<string, number>) => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  let total: Record<string, number> = {};
  for (const c of pod.spec?.containers ?? []) total = plus(total, of(c));
  let sidecars: Record<string, number> = {};
  const initMax: Record<string, number> = {};
  for (const ic of pod.spec?.initContainers ?? []) {
    const r = of(ic);
    const cur = ic.restartPolicy === 'Always' ? (sidecars = plus(sidecars, r)) : plus(r, sidecars);
    if (ic.restartPolicy === 'Always') total = plus(total, r);
    for (const [k, v] of Object.entries(cur)) initMax[k] = Math.max(initMax[k] ?? 0, v);
  }
  for (const [k, v] of Object.entries(initMax)) total[k] = Math.max(total[k] ?? 0, v);
  return total;
}

const terminal = (p: KubeObject): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Why `pod` does not fit next to the pods already on the node (upstream reason strings), empty when it fits. */
export function insufficientResources(
  pod: KubeObject,
  onNode: KubeObject[],
  allocatable: { cpu: number; memory: number; pods: number; extended?: Record<string, number> },
): string[] {
  const want = podRequests(pod);
  const used: Requests = { cpu: 0, memory: 0 };
  for (const p of onNode) add(used, podRequests(p));
  const reasons: string[] = [];
  // K noderesources/fit.go fitsRequest: pods first, then cpu, memory (a zero request always fits), then the extended
  // resources, which a node without them has none of.
  if (onNode.length + 1 > allocatable.pods) reasons.push('Too many pods');
  if (want.cpu > 0 && want.cpu > allocatable.cpu - used.cpu) reasons.push('Insufficient cpu');
  if (want.memory > 0 && want.memory > allocatable.memory - used.memory) reasons.push('Insufficient memory');
  const extended = podExtendedRequests(pod);
  for (const [name, n] of Object.entries(extended).sort(([a], [b]) => a.localeCompare(b))) {
    const inUse = onNode.reduce((sum, p) => sum + (podExtendedRequests(p)[name] ?? 0), 0);
    if (n > 0 && n > (allocatable.extended?.[name] ?? 0) - inUse) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

/**
 * The FitError message for one node (K framework/types.go) with DefaultPreemption's post-filter message: preemption
 * "is not helpful" when a placement filter failed (UnschedulableAndUnresolvable), else no victim was found.
 */
export function unschedulableMessage(reasons: string[], unresolvable = false): string {
  const hist = reasons.map((r) => `1 ${r}`).sort();
  const preemption = unresolvable ? 'Preemption is not helpful for scheduling' : 'No preemption victims found for incoming pod';
  return `0/1 nodes are available: ${hist.join(', ')}. preemption: 0/1 nodes are available: 1 ${preemption}.`;
}

// ---------------------------------------------------------------------------------------------------------------

export function startScheduler(store: ClusterStore, opts: SchedulerOptions): { stop(): Promise<void> } {
  const names = opts.schedulerNames ?? ['default-scheduler'];
  const wants = (p: KubeObject): boolean =>
    !p.spec?.nodeName && !p.metadata.deletionTimestamp && !terminal(p) && names.includes(p.spec?.schedulerName ?? 'default-scheduler');
  const fallback = nodeCapacity(opts.capacity);
  const fallbackPods = opts.capacity?.pods === undefined ? 110 : parseQuantity(opts.capacity.pods);
  /** Pods found unschedulable: retried on cluster events that may free capacity. */
  const unschedulable = new Set<string>();
  const keyOf = (p: KubeObject): string => `${p.metadata.namespace}/${p.metadata.name}`;

  const allocatable = (): { cpu: number; memory: number; pods: number; extended: Record<string, number> } => {
    const node = store.find('nodes', undefined, opts.nodeName);
    const a = node?.status?.allocatable ?? node?.status?.capacity ?? {};
    const q = (v: unknown, dflt: string | number, scale: number): number => {
      try {
        return parseQuantity(typeof v === 'string' || typeof v === 'number' ? v : dflt, scale);
      } catch (err) {
        opts.log?.(`scheduler: node ${opts.nodeName} allocatable ${JSON.stringify(v)}: ${errorMessage(err)}`);
        return parseQuantity(dflt, scale);
      }
    };
    // Extended resources (a device plugin's nvidia.com/gpu) as the Node advertises them; none when it does not.
    const extended: Record<string, number> = {};
    for (const [name, v] of Object.entries(a)) if (isExtendedResource(name)) extended[name] = q(v, 0, 0);
    return { cpu: q(a.cpu, fallback.cpu, 3), memory: q(a.memory, fallback.memory, 0), pods: q(a.pods, fallbackPods, 0), extended };
  };

  const queue = new WorkQueue(
    (key) => {
      const [ns, name] = splitKey(key);
      const pod = store.find('pods', ns, name);
      if (!pod || !wants(pod)) {
        unschedulable.delete(key);
        return;
      }
      const node = store.find('nodes', undefined, opts.nodeName);
      const placement = node ? placementFailure(pod, node) : undefined;
      const onNode = store.list('pods', undefined).items.filter((p) => p.spec?.nodeName === opts.nodeName && !terminal(p));
      const reasons = placement ? [placement.reason] : insufficientResources(pod, onNode, allocatable());
      const extra = placement ? undefined : opts.fits?.(pod, opts.nodeName);
      if (extra) reasons.push(extra);
      if (reasons.length) {
        unschedulable.add(key);
        const msg = unschedulableMessage(reasons, placement !== undefined);
        setScheduledCondition(store, pod, 'False', 'Unschedulable', msg);
        opts.events.record(pod, 'Warning', 'FailedScheduling', msg, 'default-scheduler');
        return;
      }
      unschedulable.delete(key);
      // Binding (pods/binding upstream): the store takes spec.nodeName through a merge patch.
      const bound = store.patch('pods', ns, name, 'merge', { spec: { nodeName: opts.nodeName } }, { fieldManager: 'default-scheduler' });
      setScheduledCondition(store, bound, 'True');
      opts.events.record(bound, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${opts.nodeName}`, 'default-scheduler');
    },
    { name: 'scheduler', log: opts.log },
  );

  /** Moves every unschedulable pod back to the queue, highest priority then oldest first (K PrioritySort). */
  const retryUnschedulable = (): void => {
    const pods = [...unschedulable].map((k) => store.find('pods', ...splitKey(k))).filter((p): p is KubeObject => !!p);
    pods.sort(
      (a, b) =>
        (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0) ||
        String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
        keyOf(a).localeCompare(keyOf(b)),
    );
    for (const p of pods) queue.add(keyOf(p));
  };

  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    if (ev.key === 'nodes') {
      if (ev.object.metadata.name === opts.nodeName && unschedulable.size) retryUnschedulable();
      return;
    }
    if (ev.key !== 'pods') return;
    const p = ev.object;
    const key = keyOf(p);
    // Capacity may have freed up: a pod on the node went away, finished, or (in-place resize) changed its spec.
    const wasOnNode = (ev.old ?? p).spec?.nodeName === opts.nodeName;
    if (unschedulable.size && wasOnNode && (ev.type === 'DELETED' || (terminal(p) && !(ev.old && terminal(ev.old))) || specChanged(ev))) {
      retryUnschedulable();
    }
    if (ev.type === 'DELETED') {
      unschedulable.delete(key);
      return;
    }
    if (!wants(p)) return;
    // An unschedulable pod is retried on its own spec changes only, not on our status writes (no event storm).
    if (unschedulable.has(key) && ev.type === 'MODIFIED' && !specChanged(ev)) return;
    queue.add(key);
  });
  for (const p of store.list('pods', undefined).items) if (wants(p)) queue.add(keyOf(p));
  return {
    async stop() {
      unsubscribe();
      await queue.stop();
    },
  };

  function specChanged(ev: StoreEvent): boolean {
    return !!ev.old && JSON.stringify(ev.old.spec) !== JSON.stringify(ev.object.spec);
  }

  function setScheduledCondition(s: ClusterStore, pod: KubeObject, status: string, reason?: string, message?: string): void {
    try {
      const cur = s.get('pods', pod.metadata.namespace, pod.metadata.name!);
      const conds: any[] = [...(cur.status?.conditions ?? [])];
      const i = conds.findIndex((c) => c.type === 'PodScheduled');
      const prev = i >= 0 ? conds[i] : undefined;
      if (prev && prev.status === status && prev.reason === reason && prev.message === message) return;
      const c: any = { type: 'PodScheduled', status, lastProbeTime: null, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : nowRFC3339() };
      if (reason) c.reason = reason;
      if (message) c.message = message;
      if (i >= 0) conds[i] = c;
      else conds.push(c);
      cur.status = { ...(cur.status ?? {}), phase: cur.status?.phase ?? 'Pending', conditions: conds };
      s.update('pods', cur.metadata.namespace, cur.metadata.name!, cur, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) opts.log?.(`scheduler: status of ${pod.metadata.namespace}/${pod.metadata.name}: ${errorMessage(err)}`);
    }
  }
}
