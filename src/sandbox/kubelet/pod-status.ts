/**
 * The API status of a pod from the kubelet's view of its containers, as K pkg/kubelet/kubelet_pods.go
 * generateAPIPodStatus computes it: the phase (getPhase), container statuses (convertToAPIContainerStatuses) and the
 * conditions the kubelet owns (K pkg/kubelet/status/generate.go). Pure: everything it reads is in its input.
 */
import crypto from 'node:crypto';
import { podCondition } from '../machinery/pods.js';
import { normalizeImage } from '../machinery/images.js';
import { qosClass } from '../machinery/qos.js';
import type { KubeObject } from '../types.js';
import { allStopped, type ContainerInstance, type ContainerState } from './container-state.js';

export interface PodStatusInput {
  /** The pod as last seen: spec, and the status written before (condition transition times, qosClass). */
  pod: KubeObject;
  /** Init containers first, then regular ones, in spec order. */
  containers: readonly ContainerState[];
  /** Terminal phase once reached (never reverts). */
  terminalPhase?: 'Succeeded' | 'Failed';
  startTime?: string;
  reason?: string;
  message?: string;
  hostIP: string;
  /** Unset before the pod sandbox exists. */
  podIP?: string;
  /** RFC3339, the transition time of conditions that change now. */
  now: string;
}

function imageID(image: string): string {
  const ref = normalizeImage(image);
  const slash = ref.lastIndexOf('/');
  const at = ref.indexOf('@');
  const colon = ref.indexOf(':', slash);
  const repo = at >= 0 ? ref.slice(0, at) : colon >= 0 ? ref.slice(0, colon) : ref;
  return `${repo}@sha256:${crypto.createHash('sha256').update(ref).digest('hex')}`;
}

function terminated(i: ContainerInstance): any {
  const t: any = { exitCode: i.exitCode, reason: i.reason, startedAt: i.startedAt, finishedAt: i.finishedAt, containerID: i.containerID };
  if (i.message) t.message = i.message;
  return t;
}

/** One container's status (convertToAPIContainerStatuses). */
export function containerStatus(c: ContainerState, podInitializing: boolean): any {
  const cur = c.current;
  let state: any;
  let lastState: any = {};
  if (cur && !cur.done) {
    state = { running: { startedAt: cur.startedAt } };
    if (c.previous) lastState = { terminated: terminated(c.previous) };
  } else if (cur && cur.done && !c.waiting) {
    state = { terminated: terminated(cur) };
    if (c.previous) lastState = { terminated: terminated(c.previous) };
  } else {
    const w = c.waiting ?? { reason: podInitializing ? 'PodInitializing' : 'ContainerCreating' };
    state = { waiting: w.message ? { reason: w.reason, message: w.message } : { reason: w.reason } };
    const last = cur?.done ? cur : c.previous;
    if (last) lastState = { terminated: terminated(last) };
  }
  const st: any = {
    name: c.spec.name,
    state,
    lastState,
    // convertToAPIContainerStatuses: a regular init container is ready once it terminated with exit code 0.
    ready: c.init && !c.sidecar ? !!(cur?.done && cur.exitCode === 0 && !c.waiting) : !!(cur && !cur.done && c.ready),
    restartCount: c.restartCount,
    image: normalizeImage(c.spec.image ?? ''),
    imageID: c.current || c.previous ? imageID(c.spec.image ?? '') : '',
    started: !!(cur && !cur.done && c.started),
  };
  const id = (cur ?? c.previous)?.containerID;
  if (id) st.containerID = id;
  return st;
}

/** Init containers still pending or failed (the first half of getPhase). */
function initCounts(containers: readonly ContainerState[]): { pendingInit: number; failedInit: number } {
  let pendingInit = 0;
  let failedInit = 0;
  const anyRegularStarted = containers.some((c) => !c.init && (c.current || c.previous));
  for (const c of containers) {
    if (!c.init) continue;
    const cur = c.current;
    if (c.sidecar) {
      // Terminated sidecars do not count; one not started yet keeps the pod initializing.
      if (!(cur && !cur.done && c.started) && !anyRegularStarted) pendingInit++;
      continue;
    }
    if (!cur) {
      if (c.previous?.done && c.previous.exitCode !== 0) failedInit++;
      else pendingInit++;
    } else if (!cur.done) pendingInit++;
    else if (cur.exitCode !== 0) failedInit++;
  }
  return { pendingInit, failedInit };
}

/** The pod phase (K kubelet_pods.go getPhase); `podIsTerminal`: its containers were stopped for deletion. */
export function podPhase(containers: readonly ContainerState[], restartPolicy: string, podIsTerminal: boolean): string {
  const { pendingInit, failedInit } = initCounts(containers);
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of containers) {
    if (c.init) continue;
    const cur = c.current;
    if (cur && !cur.done) running++;
    else if (cur?.done && !c.waiting) {
      stopped++;
      if (cur.exitCode === 0) succeeded++;
    } else if (cur?.done || c.previous) stopped++;
    else if (c.waiting || podIsTerminal === false) waiting++;
    else unknown++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (podIsTerminal && running === 0) {
    // Stopped for deletion: never-started containers count as not succeeded.
    const total = containers.filter((c) => !c.init).length;
    return succeeded === total ? 'Succeeded' : 'Failed';
  }
  if (pendingInit > 0 || failedInit > 0 || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** The pod's restart policy (default Always). */
export function restartPolicyOf(pod: KubeObject): string {
  return pod.spec?.restartPolicy ?? 'Always';
}

interface ConditionInput {
  input: PodStatusInput;
  phase: string;
  inits: ContainerState[];
  regular: ContainerState[];
  initStatuses: any[];
  statuses: any[];
}

/**
 * The conditions (status/generate.go), in generateAPIPodStatus's order: those the kubelet does not own (readiness
 * gates, DisruptionTarget…) first, then PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled.
 */
function podConditions({ input, phase, inits, regular, initStatuses, statuses }: ConditionInput): any[] {
  const old = input.pod.status ?? {};
  const cond = (type: string, status: string, reason?: string, message?: string): any => {
    const prev = (old.conditions as any[] | undefined)?.find((x) => x.type === type);
    const c: any = { type, status, lastProbeTime: null, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : input.now };
    if (reason) c.reason = reason;
    if (message) c.message = message;
    return c;
  };
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  // status/generate.go isInitContainerInitialized: sidecars once started, others once exited 0.
  const incompleteInit = inits
    .filter((c) => (c.sidecar ? !(c.current && !c.current.done && c.started) && !regular.some((r) => r.current || r.previous) : !(c.current?.done && c.current.exitCode === 0)))
    .map((c) => c.spec.name);
  const initialized =
    // status/generate.go: a Succeeded pod whose init containers all have a status is Initialized/PodCompleted.
    phase === 'Succeeded'
      ? cond('Initialized', 'True', 'PodCompleted')
      : incompleteInit.length === 0
        ? cond('Initialized', 'True')
        : cond('Initialized', 'False', 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`);
  // Sidecars count for ContainersReady (GenerateContainersReadyCondition) while the pod is not finished.
  const unready = [
    ...inits.filter((c, i) => c.sidecar && !terminal && !initStatuses[i].ready).map((c) => c.spec.name),
    ...regular.filter((_c, i) => !statuses[i].ready).map((c) => c.spec.name),
  ];
  let containersReady: any;
  if (unready.length === 0) containersReady = cond('ContainersReady', 'True');
  else if (phase === 'Succeeded') containersReady = cond('ContainersReady', 'False', 'PodCompleted');
  else containersReady = cond('ContainersReady', 'False', 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`);
  const gates: string[] = (input.pod.spec?.readinessGates ?? []).map((g: any) => g.conditionType);
  const gatesFalse = gates.filter((g) => podCondition(input.pod, g)?.status !== 'True');
  let ready: any;
  if (containersReady.status !== 'True') ready = cond('Ready', 'False', containersReady.reason, containersReady.message);
  else if (gatesFalse.length) ready = cond('Ready', 'False', 'ReadinessGatesNotReady', `corresponding condition of pod readiness gate "${gatesFalse[0]}" does not exist.`);
  else ready = cond('Ready', 'True');

  const kubeletOwned = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  const conditions: any[] = ((old.conditions as any[] | undefined) ?? []).filter((c) => !kubeletOwned.has(c.type));
  conditions.push(cond('PodReadyToStartContainers', terminal && allStopped(input.containers) ? 'False' : 'True'), initialized, ready, containersReady);
  conditions.push(cond('PodScheduled', 'True'));
  return conditions;
}

/** The pod's status as the kubelet writes it (generateAPIPodStatus). */
export function generatePodStatus(input: PodStatusInput): any {
  const { pod } = input;
  const old = pod.status ?? {};
  const inits = input.containers.filter((c) => c.init);
  const regular = input.containers.filter((c) => !c.init);
  const initDone = inits.every((c) => (c.sidecar ? c.started || !!c.previous : c.current?.done && c.current.exitCode === 0));
  const phase = input.terminalPhase ?? podPhase(input.containers, restartPolicyOf(pod), false);
  const initStatuses = inits.map((c) => containerStatus(c, false));
  const statuses = regular.map((c) => containerStatus(c, !initDone));
  const conditions = podConditions({ input, phase, inits, regular, initStatuses, statuses });

  const st: any = { phase, conditions, hostIP: input.hostIP, hostIPs: [{ ip: input.hostIP }] };
  // No pod IP before the sandbox exists (upstream leaves it empty until RunPodSandbox returned).
  if (input.podIP) {
    st.podIP = input.podIP;
    st.podIPs = [{ ip: input.podIP }];
  }
  st.startTime = input.startTime;
  if (input.reason) st.reason = input.reason;
  if (input.message) st.message = input.message;
  if (inits.length) st.initContainerStatuses = initStatuses;
  st.containerStatuses = statuses;
  st.qosClass = old.qosClass ?? qosClass(pod.spec);
  if (pod.metadata.generation !== undefined) st.observedGeneration = pod.metadata.generation;
  return st;
}
