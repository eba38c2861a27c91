/**
 * The in-process controller manager: scheduler (resource fit), ReplicaSet, Deployment, Job (+ TTL after finished) and
 * Endpoints controllers, all reacting to the store's change stream through keyed work queues.
 */
import type { ClusterStore, EventRecorder } from '../types.js';
import { startDeploymentController } from './deployment.js';
import { startEndpointsController } from './endpoints.js';
import { createEventRecorder } from './events.js';
import { startJobController } from './job.js';
import { startReplicaSetController } from './replicaset.js';
import { startScheduler, type NodeCapacity } from './scheduler.js';
import type { LogFn } from './util.js';

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
  schedulerFits?: Parameters<typeof startScheduler>[1]['fits'];
  /** Controllers to run (default all). */
  enabled?: ('scheduler' | 'replicaset' | 'deployment' | 'job' | 'endpoints')[];
  events?: EventRecorder;
  log?: LogFn;
}

export interface Controllers {
  events: EventRecorder;
  stop(): Promise<void>;
}

export function startControllers(store: ClusterStore, opts: Partial<ControllerOptions> = {}): Controllers {
  const log = opts.log;
  // Shared with the kubelet in the sandbox: kubelet events carry `source.host` = the (single) node.
  const events = opts.events ?? createEventRecorder(store, { log, host: opts.nodeName ?? 'sandbox' });
  const on = new Set(opts.enabled ?? ['scheduler', 'replicaset', 'deployment', 'job', 'endpoints']);
  const running: { stop(): Promise<void> }[] = [];
  if (on.has('scheduler')) running.push(startScheduler(store, { nodeName: opts.nodeName ?? 'sandbox', events, log, capacity: opts.nodeCapacity, fits: opts.schedulerFits }));
  if (on.has('replicaset')) running.push(startReplicaSetController(store, { events, log }));
  if (on.has('deployment')) running.push(startDeploymentController(store, { events, log }));
  if (on.has('job')) running.push(startJobController(store, { events, log, jobBackoffBaseMs: opts.jobBackoffBaseMs, jobBackoffMaxMs: opts.jobBackoffMaxMs }));
  if (on.has('endpoints') && store.resources.some((r) => r.group === '' && r.resource === 'endpoints')) running.push(startEndpointsController(store, { log }));
  return {
    events,
    async stop() {
      await Promise.all(running.map((r) => r.stop()));
    },
  };
}
