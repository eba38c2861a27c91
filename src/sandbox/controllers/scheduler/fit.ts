/**
 * The NodeResourcesFit filter (K pkg/scheduler/framework/plugins/noderesources/fit.go). A pod fits when, for cpu and
 * memory, its requests (K component-helpers resource.PodRequests: regular containers summed, init containers as a
 * max, sidecars added; a limit without a request counts as the request, as API defaulting makes it) plus the requests
 * of the non-terminal pods already bound to the node do not exceed the node's allocatable, and the node's `pods`
 * count is not exhausted; and for extended resources (`nvidia.com/gpu`) likewise, against what the Node object
 * advertises (none unless its status lists them, as a device plugin makes it).
 */
import { isExtendedResource, parseQuantity } from '../../../engine/kube/quantity.js';
import type { KubeObject } from '../../types.js';

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

/** What the node offers: milli-cpu, bytes, a pod count, whole units of extended resources. */
export interface Allocatable {
  cpu: number;
  memory: number;
  pods: number;
  extended?: Record<string, number>;
}

/** Why `pod` does not fit next to the pods already on the node (upstream reason strings), empty when it fits. */
export function insufficientResources(pod: KubeObject, onNode: KubeObject[], allocatable: Allocatable): string[] {
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
