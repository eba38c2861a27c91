/**
 * The in-process controller manager: scheduler (resource fit), ReplicaSet, Deployment, Job (+ TTL after finished) and
 * Endpoints controllers, and the controllers the API's object lifecycle relies on (garbage collector, namespace
 * controller, ServiceAccounts, root-CA publisher), all reacting to the store's change stream through keyed work queues
 * (machinery/controller.ts).
 */
import { systemClock, type Clock } from '../machinery/clock.js';
import type { QueueController } from '../machinery/controller.js';
import type { NodeCapacity } from '../machinery/capacity.js';
import type { ClusterStore, EventRecorder } from '../types.js';
import { DeploymentController } from './deployment/controller.js';
import { EndpointsController } from './endpoints.js';
import { createEventRecorder } from '../machinery/events.js';
import { GarbageCollector } from './garbagecollector.js';
import { JobController } from './job/controller.js';
import { NamespaceController } from './namespace.js';
import { ReplicaSetController } from './replicaset.js';
import { RootCACertPublisher } from './root-ca-publisher.js';
import { Scheduler, type SchedulerOptions } from './scheduler/scheduler.js';
import { ServiceAccountsController } from './serviceaccounts.js';
import type { LogFn } from '../machinery/log.js';

export interface ControllerOptions {
  /** The node the scheduler binds pods to (default `sandbox`). */
  nodeName: string;
  /** Job pod-failure back-off base in ms (default 10 000, upstream DefaultJobPodFailureBackOff). */
  jobBackoffBaseMs?: number;
  /** Job pod-failure back-off cap in ms (default 600 000, upstream MaxJobPodFailureBackOff). */
  jobBackoffMaxMs?: number;
  /**
   * The node's capacity as the scheduler sees it when the Node object has no status.allocatable (default: this
   * machine's). The Node the kubelet registers normally carries the same values (startSandbox passes both).
   */
  nodeCapacity?: NodeCapacity;
  /** An extra scheduler filter besides the resource fit (undefined = fits, else the reason, e.g. `node(s) were unschedulable`). */
  schedulerFits?: SchedulerOptions['fits'];
  /** Controllers to run (default all). */
  enabled?: ControllerName[];
  /** The CA bundle published in every namespace's kube-root-ca.crt (startSandbox: its CA; default a placeholder). */
  rootCA?: string;
  /** Time for every controller's conditions, deadlines, back-offs and retries (default the system clock; tests step a fake one). */
  clock?: Clock;
  events?: EventRecorder;
  log?: LogFn;
}

/** What the API's object lifecycle relies on: without them, nothing is garbage-collected, no namespace goes, and pods find no `default` ServiceAccount. */
export const LIFECYCLE_CONTROLLERS = ['garbagecollector', 'namespace', 'serviceaccount', 'root-ca-cert-publisher'] as const;
const WORKLOAD_CONTROLLERS = ['scheduler', 'replicaset', 'deployment', 'job', 'endpoints'] as const;
export type ControllerName = (typeof LIFECYCLE_CONTROLLERS)[number] | (typeof WORKLOAD_CONTROLLERS)[number];

export interface Controllers {
  events: EventRecorder;
  /** Waits until the lifecycle controllers have nothing queued or being synced (tests, shutdown). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export function startControllers(store: ClusterStore, opts: Partial<ControllerOptions> = {}): Controllers {
  const log = opts.log;
  const clock = opts.clock ?? systemClock;
  // Shared with the kubelet in the sandbox: kubelet events carry `source.host` = the (single) node.
  const events = opts.events ?? createEventRecorder(store, { log, host: opts.nodeName ?? 'sandbox', clock });
  const on = new Set<ControllerName>(opts.enabled ?? [...LIFECYCLE_CONTROLLERS, ...WORKLOAD_CONTROLLERS]);
  const running: QueueController[] = [];
  const base = { clock, log };
  // The ServiceAccounts controller before the root-CA publisher: a new namespace gets its objects in upstream's order.
  if (on.has('serviceaccount')) running.push(new ServiceAccountsController(store, base).start());
  if (on.has('root-ca-cert-publisher')) running.push(new RootCACertPublisher(store, opts.rootCA, base).start());
  if (on.has('garbagecollector')) running.push(new GarbageCollector(store, base).start());
  if (on.has('namespace')) running.push(new NamespaceController(store, base).start());
  const lifecycle = [...running];
  if (on.has('scheduler')) running.push(new Scheduler(store, { nodeName: opts.nodeName ?? 'sandbox', events, log, clock, capacity: opts.nodeCapacity, fits: opts.schedulerFits }).start());
  if (on.has('replicaset')) running.push(new ReplicaSetController(store, { events, log, clock }).start());
  if (on.has('deployment')) running.push(new DeploymentController(store, { events, log, clock }).start());
  if (on.has('job')) running.push(new JobController(store, { events, log, clock, jobBackoffBaseMs: opts.jobBackoffBaseMs, jobBackoffMaxMs: opts.jobBackoffMaxMs }).start());
  if (on.has('endpoints') && store.resources.some((r) => r.group === '' && r.resource === 'endpoints')) running.push(new EndpointsController(store, { log, clock }).start());
  return {
    events,
    async settle() {
      // A sync of one can give another work (a namespace's content deleted, then its dependents collected).
      while (lifecycle.some((c) => c.busy)) await Promise.all(lifecycle.map((c) => c.idle()));
    },
    async stop() {
      await Promise.all(running.map((r) => r.stop()));
    },
  };
}
