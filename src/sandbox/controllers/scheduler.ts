/**
 * Scheduler stub: binds every pending, unbound pod whose schedulerName is ours to the single sandbox node,
 * as kube-scheduler would after its filter/score cycle (K pkg/scheduler/schedule_one.go): `spec.nodeName` is set,
 * condition `PodScheduled=True` is added and the event `Scheduled` "Successfully assigned ns/pod to node" recorded.
 *
 * `fits` is the hook for part 2's capacity checks: when it answers a reason, the pod stays pending with
 * PodScheduled=False reason Unschedulable and a FailedScheduling event, and is retried on the next change.
 */
import type { ClusterStore, EventRecorder, KubeObject, StoreEvent } from '../types.js';
import { errorMessage, isNotFound, nowRFC3339, splitKey, WorkQueue, type LogFn } from './util.js';

export interface SchedulerOptions {
  nodeName: string;
  events: EventRecorder;
  log?: LogFn;
  /** Answers undefined when the pod fits the node, or the reason it does not (e.g. `Insufficient cpu`). */
  fits?: (pod: KubeObject, nodeName: string) => string | undefined;
  /** Scheduler names handled (default: `default-scheduler`; pods without schedulerName too). */
  schedulerNames?: string[];
}

export function startScheduler(store: ClusterStore, opts: SchedulerOptions): { stop(): Promise<void> } {
  const names = opts.schedulerNames ?? ['default-scheduler'];
  const wants = (p: KubeObject): boolean =>
    !p.spec?.nodeName &&
    !p.metadata.deletionTimestamp &&
    p.status?.phase !== 'Succeeded' &&
    p.status?.phase !== 'Failed' &&
    names.includes(p.spec?.schedulerName ?? 'default-scheduler');

  const queue = new WorkQueue(
    (key) => {
      const [ns, name] = splitKey(key);
      const pod = store.find('pods', ns, name);
      if (!pod || !wants(pod)) return;
      const why = opts.fits?.(pod, opts.nodeName);
      if (why) {
        const msg = `0/1 nodes are available: 1 ${why}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.`;
        setScheduledCondition(store, pod, 'False', 'Unschedulable', msg);
        opts.events.record(pod, 'Warning', 'FailedScheduling', msg, 'default-scheduler');
        return;
      }
      // Binding (pods/binding upstream): the store takes spec.nodeName through a merge patch.
      const bound = store.patch('pods', ns, name, 'merge', { spec: { nodeName: opts.nodeName } }, { fieldManager: 'default-scheduler' });
      setScheduledCondition(store, bound, 'True');
      opts.events.record(bound, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${opts.nodeName}`, 'default-scheduler');
    },
    { name: 'scheduler', log: opts.log },
  );
  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    if (ev.key !== 'pods' || ev.type === 'DELETED') return;
    if (wants(ev.object)) queue.add(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
  });
  for (const p of store.list('pods', undefined).items) if (wants(p)) queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
  return {
    async stop() {
      unsubscribe();
      await queue.stop();
    },
  };

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
