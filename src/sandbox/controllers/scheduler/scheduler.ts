/**
 * The sandbox scheduler: binds every pending, unbound pod whose schedulerName is ours to the single sandbox node,
 * as kube-scheduler would after its filter/score cycle (K pkg/scheduler/schedule_one.go): `spec.nodeName` is set,
 * condition `PodScheduled=True` is added and the event `Scheduled` "Successfully assigned ns/pod to node" recorded.
 *
 * Filters: NodeUnschedulable, TaintToleration and NodeAffinity (node-filters.ts), then NodeResourcesFit (fit.ts)
 * against the Node object's `status.allocatable` (the kubelet registers it from the configured capacity), else
 * `capacity`, else the configured or this machine's (machinery/capacity.ts).
 *
 * A pod that does not fit stays Pending with PodScheduled=False reason Unschedulable and the upstream message
 * (K pkg/scheduler/framework/types.go FitError.Error: "0/1 nodes are available: 1 Insufficient cpu." plus the
 * DefaultPreemption post-filter message), and a FailedScheduling Warning event. Unschedulable pods are retried, oldest
 * (highest priority) first, when capacity may have freed up: a pod on the node terminates or is deleted, or the Node
 * changes - as upstream's scheduling queue moves them back to the active queue on those cluster events.
 */
import { errorMessage } from '../../../engine/errors.js';
import { isExtendedResource, parseQuantity } from '../../../engine/kube/quantity.js';
import { DEFAULT_MAX_PODS, nodeCapacity, type NodeCapacity } from '../../machinery/capacity.js';
import type { Clock } from '../../machinery/clock.js';
import { QueueController } from '../../machinery/controller.js';
import { isNotFound } from '../../machinery/errors.js';
import type { LogFn } from '../../machinery/log.js';
import { deepEqual, keyOf, splitKey } from '../../machinery/objects.js';
import { isTerminal } from '../../machinery/pods.js';
import { nowRFC3339 } from '../../machinery/time.js';
import type { ClusterStore, EventRecorder, KubeObject, StoreEvent } from '../../types.js';
import { insufficientResources, unschedulableMessage, type Allocatable } from './fit.js';
import { placementFailure } from './node-filters.js';

const SOURCE = 'default-scheduler';

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
  /** Time for condition transitions (default the system clock). */
  clock?: Clock;
}

const specChanged = (ev: StoreEvent): boolean => !!ev.old && !deepEqual(ev.old.spec, ev.object.spec);

export class Scheduler extends QueueController {
  private readonly names: string[];
  private readonly fallback: { cpu: string; memory: string };
  private readonly fallbackPods: number;
  /** Pods found unschedulable: retried on cluster events that may free capacity. */
  private readonly unschedulable = new Set<string>();

  constructor(
    store: ClusterStore,
    private readonly opts: SchedulerOptions,
  ) {
    super(store, 'scheduler', opts);
    this.names = opts.schedulerNames ?? [SOURCE];
    this.fallback = nodeCapacity(opts.capacity);
    this.fallbackPods = opts.capacity?.pods === undefined ? DEFAULT_MAX_PODS : parseQuantity(opts.capacity.pods);
  }

  protected initialKeys(): string[] {
    return this.store
      .view('pods', undefined)
      .filter((p) => this.wants(p))
      .map(keyOf);
  }

  /** An unbound, live pod for one of our scheduler names. */
  private wants(p: KubeObject): boolean {
    return !p.spec?.nodeName && !p.metadata.deletionTimestamp && !isTerminal(p) && this.names.includes(p.spec?.schedulerName ?? SOURCE);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Event handlers

  protected handle(ev: StoreEvent): void {
    if (ev.key === 'nodes') this.onNode(ev);
    else if (ev.key === 'pods') this.onPod(ev);
  }

  private onNode(ev: StoreEvent): void {
    if (ev.object.metadata.name === this.opts.nodeName && this.unschedulable.size) this.retryUnschedulable();
  }

  private onPod(ev: StoreEvent): void {
    const p = ev.object;
    const key = keyOf(p);
    // Capacity may have freed up: a pod on the node went away, finished, or (in-place resize) changed its spec.
    const wasOnNode = (ev.old ?? p).spec?.nodeName === this.opts.nodeName;
    if (this.unschedulable.size && wasOnNode && (ev.type === 'DELETED' || (isTerminal(p) && !(ev.old && isTerminal(ev.old))) || specChanged(ev))) {
      this.retryUnschedulable();
    }
    if (ev.type === 'DELETED') {
      this.unschedulable.delete(key);
      return;
    }
    if (!this.wants(p)) return;
    // An unschedulable pod is retried on its own spec changes only, not on our status writes (no event storm).
    if (this.unschedulable.has(key) && ev.type === 'MODIFIED' && !specChanged(ev)) return;
    this.queue.add(key);
  }

  /** Moves every unschedulable pod back to the queue, highest priority then oldest first (K PrioritySort). */
  private retryUnschedulable(): void {
    const pods = [...this.unschedulable].map((k) => this.store.peek('pods', ...splitKey(k))).filter((p): p is KubeObject => !!p);
    pods.sort(
      (a, b) =>
        (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0) ||
        String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
        keyOf(a).localeCompare(keyOf(b)),
    );
    for (const p of pods) this.queue.add(keyOf(p));
  }

  // -------------------------------------------------------------------------------------------------------------

  /** scheduleOne: filter, then bind or record why not. */
  protected sync(key: string): void {
    const [ns, name] = splitKey(key);
    const pod = this.store.peek('pods', ns, name);
    if (!pod || !this.wants(pod)) {
      this.unschedulable.delete(key);
      return;
    }
    const nodeName = this.opts.nodeName;
    const node = this.store.peek('nodes', undefined, nodeName);
    const placement = node ? placementFailure(pod, node) : undefined;
    const onNode = this.store.view('pods', undefined).filter((p) => p.spec?.nodeName === nodeName && !isTerminal(p));
    const reasons = placement ? [placement.reason] : insufficientResources(pod, onNode, this.allocatable());
    const extra = placement ? undefined : this.opts.fits?.(pod, nodeName);
    if (extra) reasons.push(extra);
    if (reasons.length) {
      this.unschedulable.add(key);
      const msg = unschedulableMessage(reasons, placement !== undefined);
      this.setScheduledCondition(pod, 'False', 'Unschedulable', msg);
      this.opts.events.record(pod, 'Warning', 'FailedScheduling', msg, SOURCE);
      return;
    }
    this.unschedulable.delete(key);
    // Binding (pods/binding upstream): the store takes spec.nodeName through a merge patch.
    const bound = this.store.patch('pods', ns, name, 'merge', { spec: { nodeName } }, { fieldManager: SOURCE });
    this.setScheduledCondition(bound, 'True');
    this.opts.events.record(bound, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${nodeName}`, SOURCE);
  }

  /** The node's allocatable as the Node object says, else the configured fallback. */
  private allocatable(): Allocatable {
    const node = this.store.peek('nodes', undefined, this.opts.nodeName);
    const a = node?.status?.allocatable ?? node?.status?.capacity ?? {};
    const q = (v: unknown, dflt: string | number, scale: number): number => {
      try {
        return parseQuantity(typeof v === 'string' || typeof v === 'number' ? v : dflt, scale);
      } catch (err) {
        this.opts.log?.(`scheduler: node ${this.opts.nodeName} allocatable ${JSON.stringify(v)}: ${errorMessage(err)}`);
        return parseQuantity(dflt, scale);
      }
    };
    // Extended resources (a device plugin's nvidia.com/gpu) as the Node advertises them; none when it does not.
    const extended: Record<string, number> = {};
    for (const [name, v] of Object.entries(a)) if (isExtendedResource(name)) extended[name] = q(v, 0, 0);
    return { cpu: q(a.cpu, this.fallback.cpu, 3), memory: q(a.memory, this.fallback.memory, 0), pods: q(a.pods, this.fallbackPods, 0), extended };
  }

  /** PodScheduled as the scheduler sets it; an unchanged condition is not rewritten. */
  private setScheduledCondition(pod: KubeObject, status: string, reason?: string, message?: string): void {
    try {
      const cur = this.store.get('pods', pod.metadata.namespace, pod.metadata.name!);
      const conds: any[] = [...(cur.status?.conditions ?? [])];
      const i = conds.findIndex((c) => c.type === 'PodScheduled');
      const prev = i >= 0 ? conds[i] : undefined;
      if (prev && prev.status === status && prev.reason === reason && prev.message === message) return;
      const since = prev?.status === status ? prev.lastTransitionTime : nowRFC3339(this.clock.now());
      const c: any = { type: 'PodScheduled', status, lastProbeTime: null, lastTransitionTime: since };
      if (reason) c.reason = reason;
      if (message) c.message = message;
      if (i >= 0) conds[i] = c;
      else conds.push(c);
      cur.status = { ...(cur.status ?? {}), phase: cur.status?.phase ?? 'Pending', conditions: conds };
      this.store.update('pods', cur.metadata.namespace, cur.metadata.name!, cur, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) this.opts.log?.(`scheduler: status of ${pod.metadata.namespace}/${pod.metadata.name}: ${errorMessage(err)}`);
    }
  }
}
