/**
 * What the kubelet knows of one container of a pod: its spec, the running or last instance (a process group), and
 * what the status reports while none runs. Shared by the pod worker (decides), the container runtime (starts and
 * kills instances), the prober (started/ready) and the status generator (reports).
 */
import type { ChildProcess } from 'node:child_process';
import type { LogWriter } from './logs.js';
import type { ProbeWorker } from './probes.js';
import type { ProcessUser } from './run-as.js';

/** One run of a container: a process group and its log file. */
export interface ContainerInstance {
  n: number;
  containerID: string;
  proc?: ChildProcess;
  pid?: number;
  startedAt: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
  logFile: string;
  writer: LogWriter;
  /** Whom the process runs as (undefined: the sandbox's own user). */
  user?: ProcessUser;
  /** Set once the process and its output are finished. */
  done: boolean;
  /** When it finished (ms; finishedAt has seconds only). */
  finishedMs?: number;
  /** Cancels the SIGKILL that ends a graceful kill. */
  cancelKill?: () => void;
  killing: boolean;
}

export interface ContainerState {
  spec: any;
  init: boolean;
  /** A restartable init container (`restartPolicy: Always`): a sidecar, KEP-753. */
  sidecar: boolean;
  restartCount: number;
  current?: ContainerInstance;
  previous?: ContainerInstance;
  /** Waiting reason/message while no instance runs (ContainerCreating, CrashLoopBackOff, CreateContainerConfigError…). */
  waiting?: { reason: string; message?: string };
  /** A failed image pull: no new pull before this time (ms). */
  pullRetryAt?: number;
  probes: ProbeWorker[];
  /** Ready from the readiness probe (true without one once started). */
  ready: boolean;
  started: boolean;
}

export function newContainerState(spec: any, init: boolean): ContainerState {
  return { spec, init, sidecar: init && spec.restartPolicy === 'Always', restartCount: 0, probes: [], ready: false, started: false };
}

/** Whether no container has a process that has not ended. */
export function allStopped(containers: Iterable<ContainerState>): boolean {
  for (const c of containers) if (c.current && !c.current.done) return false;
  return true;
}
