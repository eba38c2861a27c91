/**
 * Why a service pod is not (yet) serving, and whether waiting longer can help: a pure function over a Pod object,
 * so the rollout watcher can fail fast instead of sitting out the whole startup time.
 *
 * Fatal (no point waiting): CrashLoopBackOff, image pull failures (ErrImagePull, ImagePullBackOff, InvalidImageName),
 * CreateContainerConfigError / CreateContainerError / RunContainerError (the kubelet's message quoted), a pod the
 * scheduler cannot place (PodScheduled=False, reason Unschedulable: the scheduler's message quoted), a container that
 * keeps exiting with an error (terminated with a non-zero code after restarts: a crash loop the kubelet has not named
 * yet), and a pod that has failed for good (phase Failed).
 * Not fatal: pending scheduling, ContainerCreating/PodInitializing, a running container whose probes have not passed.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

export interface PodDiagnosis {
  /** Waiting longer cannot fix it: fail the rollout now. */
  fatal: boolean;
  /** One line: what is wrong, or what the pod is waiting for (`''` when it is ready). */
  reason: string;
}

/** Waiting reasons that mean the container will not start without a change to the pod or the cluster. */
const FATAL_WAITING = new Set(['CrashLoopBackOff', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** A container that has crashed this many times (restarts) and is down again counts as crash-looping. */
export const CRASH_LOOP_RESTARTS = 2;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `exit code 1 (Error)`, `exit code 137 (OOMKilled)`, `signal 9`. */
function describeExit(t: { exitCode?: number; signal?: number; reason?: string; message?: string }): string {
  const code = t.exitCode !== undefined ? `exit code ${t.exitCode}` : t.signal !== undefined ? `signal ${t.signal}` : 'an unknown exit status';
  const reason = t.reason ? ` (${t.reason})` : '';
  const message = t.message ? `: ${oneLine(t.message)}` : '';
  return `${code}${reason}${message}`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function diagnoseContainer(st: V1ContainerStatus, init: boolean): PodDiagnosis | undefined {
  const what = `${init ? 'init container' : 'container'} "${st.name}"`;
  const waiting = st.state?.waiting;
  const terminated = st.state?.terminated;
  const last = st.lastState?.terminated;
  const restarts = st.restartCount ?? 0;
  if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
    if (waiting.reason === 'CrashLoopBackOff') {
      const crashes = last ? `, last with ${describeExit(last)}` : '';
      // In back-off the instance that just crashed has not been restarted yet: crashes = restarts + 1.
      return { fatal: true, reason: `CrashLoopBackOff: ${what} crashed ${plural(restarts + 1, 'time')}${crashes}` };
    }
    const message = waiting.message ? `: ${oneLine(waiting.message)}` : '';
    return { fatal: true, reason: `${waiting.reason}: ${what}${message}` };
  }
  if (terminated && (terminated.exitCode ?? 0) !== 0) {
    if (restarts >= CRASH_LOOP_RESTARTS) {
      return { fatal: true, reason: `${what} keeps crashing: exited with ${describeExit(terminated)} after ${plural(restarts, 'restart')}` };
    }
    return { fatal: false, reason: `${what} exited with ${describeExit(terminated)}; the kubelet restarts it` };
  }
  if (waiting?.reason) return { fatal: false, reason: `${what} is waiting: ${waiting.reason}${waiting.message ? ` (${oneLine(waiting.message)})` : ''}` };
  if (st.state?.running && !st.ready) {
    const crashed = last && restarts > 0 ? ` (restarted ${plural(restarts, 'time')}, last exit: ${describeExit(last)})` : '';
    return { fatal: false, reason: `${what} is running but not ready${st.started === false ? ' (startup probe not passed yet)' : ''}${crashed}` };
  }
  return undefined;
}

/**
 * Diagnoses one pod of a rollout. `fatal: true` means the rollout cannot succeed with this pod template (or on this
 * cluster) however long it waits; the reason quotes the kubelet's or scheduler's message.
 */
export function diagnosePod(pod: V1Pod): PodDiagnosis {
  const status = pod.status ?? {};
  const conditions = status.conditions ?? [];
  const scheduled = conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { fatal: true, reason: `Unschedulable: ${scheduled.message ? oneLine(scheduled.message) : 'the scheduler found no node for the pod'}` };
  }
  if (status.phase === 'Failed') {
    return { fatal: true, reason: `pod failed${status.reason ? ` (${status.reason})` : ''}${status.message ? `: ${oneLine(status.message)}` : ''}` };
  }
  // Init containers first: while they fail, the main containers only wait in PodInitializing.
  let pending: PodDiagnosis | undefined;
  for (const [statuses, init] of [
    [status.initContainerStatuses ?? [], true],
    [status.containerStatuses ?? [], false],
  ] as const) {
    for (const st of statuses) {
      const d = diagnoseContainer(st, init);
      if (d?.fatal) return d;
      pending ??= d;
    }
  }
  if (pending) return pending;
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return { fatal: false, reason: '' };
  if (!scheduled || scheduled.status !== 'True') return { fatal: false, reason: 'waiting to be scheduled' };
  if (status.phase === 'Pending') return { fatal: false, reason: 'pending: containers are being created' };
  return { fatal: false, reason: `not ready${ready?.message ? `: ${oneLine(ready.message)}` : ''}` };
}

/** Whether the pod's Ready condition is True. */
export function isPodReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * The containers whose logs explain a failure, and whether to ask for the previous instance's log: a container that
 * has crashed before (lastState.terminated) and is not in a terminated state now reads `previous` (in CrashLoopBackOff
 * that is the instance that just crashed, as `kubectl logs --previous`).
 */
export function logSources(pod: V1Pod): { container: string; previous: boolean }[] {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const out: { container: string; previous: boolean }[] = [];
  for (const st of statuses) {
    const started = st.state?.running !== undefined || st.state?.terminated !== undefined || st.lastState?.terminated !== undefined;
    if (!started) continue;
    // Init containers that completed fine say nothing useful.
    if ((pod.status?.initContainerStatuses ?? []).includes(st) && st.state?.terminated?.exitCode === 0) continue;
    out.push({ container: st.name, previous: st.state?.terminated === undefined && st.lastState?.terminated?.containerID !== undefined && (st.restartCount ?? 0) > 0 });
  }
  return out;
}
