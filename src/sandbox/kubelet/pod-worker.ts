/**
 * One pod on the sandbox node, as K pkg/kubelet/pod_workers.go and kubelet.go SyncPod run it: each sync moves the pod
 * on (sandbox, volumes, then containers per pod-actions.ts), ends it (active deadline, all containers done, deletion
 * with its grace period, then the confirming DELETE) and writes its status (pod-status.ts, status-manager.ts).
 * Containers run on the node's ContainerRuntime (container-runtime.ts); restarts wait out a per-container crash-loop
 * back-off (backoff.ts: the first restart is immediate, later ones wait base·2^n up to the cap, measured from the last
 * exit; the entry resets after 2×cap without a crash).
 *
 * `sync()` never blocks: it starts what must start, begins kills, and returns. Process exits, probe changes and
 * timers ask the kubelet's queue for another sync.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerRef } from '../machinery/events.js';
import { nowRFC3339, parseTime } from '../machinery/time.js';
import type { Clock } from '../machinery/clock.js';
import type { PodAddresses, PodRuntime, PodSandbox } from '../network/index.js';
import type { EventRecorder, KubeObject } from '../types.js';
import type { KubeletApi } from './api.js';
import { Backoff, goDuration } from './backoff.js';
import type { EnvContext } from './config.js';
import type { ContainerRuntime, PodContext } from './container-runtime.js';
import { allStopped, newContainerState, type ContainerState } from './container-state.js';
import type { ImagePuller } from './image-pull.js';
import type { LogWriter } from './logs.js';
import { generatePodStatus, podPhase, restartPolicyOf } from './pod-status.js';
import { computePodActions } from './pod-actions.js';
import { PodImages } from './pod-images.js';
import { PodSandboxHolder } from './pod-sandbox.js';
import { PodVolumes } from './pod-volumes.js';
import { startProbes, type ProberHost } from './prober.js';
import type { RunAsOptions } from './run-as.js';
import { PodStatusManager } from './status-manager.js';

export interface PodWorkerTimings {
  /** Crash-loop back-off base (upstream 10 s). */
  crashLoopBackOffBaseMs: number;
  /** Crash-loop back-off cap (upstream MaxContainerBackOff 300 s). */
  crashLoopBackOffMaxMs: number;
  /** How often a container stuck on configuration (missing Secret/ConfigMap) is retried besides store events. */
  configRetryMs: number;
  /** Upper bound on a termination grace period (tests may shorten upstream's 30 s default). */
  maxGracePeriodMs?: number;
}

export interface PodWorkerEnv {
  /** The node's API view: cached reads, writes over HTTP (node/view.ts). */
  api: KubeletApi;
  events: EventRecorder;
  hostIP: string;
  dataDir: string;
  timings: PodWorkerTimings;
  /** Ask for another sync of this pod, now or after `ms`. */
  requeue: (ms?: number) => void;
  log: (message: string) => void;
  /** The node's container runtime (starts and kills process groups). */
  containerRuntime: ContainerRuntime;
  /** Isolated pod sandboxes (network namespace, mounts at mountPath); undefined: host network, part-1 path rewriting. */
  network?: PodRuntime;
  /** Host network: each pod's own IP (network/loopback.ts); unset: the host's. */
  podAddresses?: PodAddresses;
  /** Whom containers run as when the sandbox is root (run-as.ts). */
  runAs: RunAsOptions;
  /** The node's image pulls (image-pull.ts): private registries, back-off. */
  images: ImagePuller;
  clock: Clock;
}

function olderThan(a: KubeObject, b: KubeObject): boolean {
  const ra = a.metadata.resourceVersion;
  const rb = b.metadata.resourceVersion;
  if (a.metadata.uid !== b.metadata.uid || !ra || !rb || !/^\d+$/.test(ra) || !/^\d+$/.test(rb)) return false;
  return BigInt(ra) < BigInt(rb);
}

export class PodWorker {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  private pod: KubeObject;
  private readonly containers = new Map<string, ContainerState>();
  /** Crash-loop back-off per container name. */
  private readonly crashBackoff: Backoff;
  private readonly status: PodStatusManager;
  private readonly podDir: string;
  private readonly volumes: PodVolumes;
  private readonly images: PodImages;
  private startTime: string | undefined;
  /** Terminal phase once reached (never reverts). */
  private terminalPhase: 'Succeeded' | 'Failed' | undefined;
  private statusReason: string | undefined;
  private statusMessage: string | undefined;
  private killingAll = false;
  /** Cancels the sync due when the active deadline passes. */
  private cancelDeadline: (() => void) | undefined;
  /** Cancels the retry of a container or volume waiting on a Secret or ConfigMap. */
  private cancelConfigRetry: (() => void) | undefined;
  private torndown = false;
  /** Isolated mode: the pod's sandbox. */
  private readonly sandboxes: PodSandboxHolder | undefined;
  /** When the kubelet took the pod: its probes tick from here (ProbeContext.tickerStartMs). */
  private readonly addedMs: number;

  constructor(
    pod: KubeObject,
    private readonly env: PodWorkerEnv,
  ) {
    this.pod = pod;
    this.uid = pod.metadata.uid!;
    this.namespace = pod.metadata.namespace!;
    this.name = pod.metadata.name!;
    this.addedMs = env.clock.now();
    this.podDir = path.join(env.dataDir, 'pods', this.uid);
    const event = this.event.bind(this);
    this.status = new PodStatusManager(
      {
        pod: () => this.pod,
        stopped: () => this.torndown,
        status: () => this.buildStatus(),
        written: (stored) => (this.pod = stored),
      },
      env,
    );
    if (env.network) {
      this.sandboxes = new PodSandboxHolder({
        network: env.network,
        podDir: this.podDir,
        clock: env.clock,
        pod: () => this.pod,
        torndown: () => this.torndown,
        event,
        requeue: () => env.requeue(),
        log: env.log,
      });
    }
    this.volumes = new PodVolumes({ podDir: this.podDir, dataDir: env.dataDir, runAs: env.runAs, event, retryConfig: () => this.scheduleConfigRetry() });
    this.images = new PodImages({ api: env.api, images: env.images, clock: env.clock, pod: () => this.pod, event, requeue: (ms) => env.requeue(ms) });
    this.crashBackoff = new Backoff(env.timings.crashLoopBackOffBaseMs, env.timings.crashLoopBackOffMaxMs, env.clock);
    for (const c of pod.spec?.initContainers ?? []) this.containers.set(c.name, newContainerState(c, true));
    for (const c of pod.spec?.containers ?? []) this.containers.set(c.name, newContainerState(c, false));
    // A pod already terminal in the store (kubelet restart) stays terminal.
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') this.terminalPhase = pod.status.phase;
  }

  /** Whether a volume or container waits for a Secret or ConfigMap (their events sync the pod again). */
  get waitingOnConfig(): boolean {
    if (this.volumes.failed) return true;
    for (const c of this.containers.values()) if (c.waiting?.reason === 'CreateContainerConfigError') return true;
    return false;
  }

  /** Log file of a container instance by containerID (for `previous` and terminated containers). */
  logFor(container: string, containerID: string | undefined): { file: string; writer: LogWriter } | undefined {
    const c = this.containers.get(container);
    if (!c) return undefined;
    for (const inst of [c.current, c.previous]) if (inst && (!containerID || inst.containerID === containerID)) return { file: inst.logFile, writer: inst.writer };
    return undefined;
  }

  private get restartPolicy(): string {
    return restartPolicyOf(this.pod);
  }

  private podRef(): string {
    return `${this.name}_${this.namespace}(${this.uid})`;
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string, c?: ContainerState): void {
    this.env.events.record(c ? containerRef(this.pod, c.spec.name, c.init) : this.pod, type, reason, message, 'kubelet');
  }

  sync(pod: KubeObject): void {
    if (this.torndown) return;
    // The cache may still hold the version before our own last status write; never step back to it. (etcd's
    // resourceVersions are increasing integers; anything else is taken as newer.)
    if (!olderThan(pod, this.pod)) this.pod = pod;
    if (!this.startTime) this.startTime = pod.status?.startTime ?? nowRFC3339(this.env.clock.now());

    if (pod.metadata.deletionTimestamp) {
      this.terminateForDeletion();
      void this.writeStatus();
      return;
    }
    if (this.terminalPhase) {
      this.killAll('terminal');
      // The sandbox (namespaces, IP) of a finished pod is released once its containers are gone (the pod IP stays
      // in status, as upstream).
      if (this.allStopped() && this.sandbox) void this.sandboxes?.release();
      void this.writeStatus();
      return;
    }
    this.checkActiveDeadline();
    if (this.terminalPhase) {
      void this.writeStatus();
      return;
    }

    if (this.sandboxes && !this.sandbox) {
      this.sandboxes.ensure();
      void this.writeStatus();
      return;
    }
    if (!this.volumes.ready) this.volumes.setUp(this.envContext());
    if (this.volumes.ready) this.syncContainers();
    this.computeTerminal();
    void this.writeStatus();
  }

  private scheduleConfigRetry(): void {
    if (this.cancelConfigRetry) return;
    this.cancelConfigRetry = this.env.clock.after(this.env.timings.configRetryMs, () => {
      this.cancelConfigRetry = undefined;
      this.env.requeue();
    });
  }

  /** The pod's sandbox once created (isolated mode). */
  private get sandbox(): PodSandbox | undefined {
    return this.sandboxes?.sandbox;
  }

  private envContext(): EnvContext {
    return { store: this.env.api, pod: this.pod, hostIP: this.env.hostIP, podIP: this.currentPodIP() ?? '', hostCpus: os.cpus().length, hostMem: os.totalmem() };
  }

  /** Host network: the pod's loopback address (or the host's IP); isolated: the sandbox's, once it exists. */
  private currentPodIP(): string | undefined {
    if (this.sandboxes) return this.sandboxes.podIP;
    return this.env.podAddresses?.addressOf(this.pod) ?? this.env.hostIP;
  }

  private syncContainers(): void {
    computePodActions([...this.containers.values()], this.restartPolicy, {
      start: (c) => this.startContainer(c),
      restart: (c) => this.restartWithBackoff(c),
    });
  }

  private restartWithBackoff(c: ContainerState): void {
    const cur = c.current!;
    const finishedMs = cur.finishedMs ?? parseTime(cur.finishedAt) ?? this.env.clock.now();
    const b = this.crashBackoff.since(c.spec.name, finishedMs);
    if (b) {
      const message = `back-off ${goDuration(b.durationMs)} restarting failed container=${c.spec.name} pod=${this.podRef()}`;
      if (c.waiting?.reason !== 'CrashLoopBackOff' || c.waiting.message !== message) {
        c.waiting = { reason: 'CrashLoopBackOff', message };
        this.event('Warning', 'BackOff', `Back-off restarting failed container ${c.spec.name} in pod ${this.podRef()}`, c);
      }
      this.env.requeue(b.remainingMs + 1);
      return;
    }
    this.crashBackoff.next(c.spec.name);
    c.previous = cur;
    c.current = undefined;
    c.restartCount++;
    this.startContainer(c);
  }

  private startContainer(c: ContainerState): void {
    if (!this.images.ready(c)) return;
    this.env.containerRuntime.start(this.podContext(c), c);
  }

  /** The pod as the prober of `c` sees it, once `c` runs. */
  private proberHost(c: ContainerState): ProberHost {
    return {
      host: this.currentPodIP() ?? this.env.hostIP,
      tickerStartMs: this.addedMs,
      sandbox: this.sandbox,
      ...(this.env.network ? { dial: this.env.network.dial } : {}),
      event: (type, reason, message) => this.event(type, reason, message, c),
      requeue: () => this.env.requeue(),
      kill: (inst, graceSeconds) => this.env.containerRuntime.kill(inst, this.graceMs(graceSeconds)),
      clock: this.env.clock,
    };
  }

  /** The pod as the runtime sees it while starting `c`. */
  private podContext(c: ContainerState): PodContext {
    return {
      pod: this.pod,
      podDir: this.podDir,
      volumeDirs: this.volumes.ready ?? new Map(),
      sandbox: this.sandbox,
      envContext: () => this.envContext(),
      event: (type, reason, message) => this.event(type, reason, message, c),
      retryConfig: () => this.scheduleConfigRetry(),
      requeue: () => this.env.requeue(),
      alive: () => !this.torndown,
      running: (inst, p) => startProbes(c, inst, p, this.proberHost(c)),
    };
  }

  private graceMs(seconds: number | undefined): number {
    const s = seconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    const ms = s * 1000;
    return this.env.timings.maxGracePeriodMs !== undefined ? Math.min(ms, this.env.timings.maxGracePeriodMs) : ms;
  }

  private killAll(why: 'deletion' | 'deadline' | 'terminal', graceMs?: number): void {
    for (const c of this.containers.values()) {
      for (const p of c.probes) p.stop();
      const cur = c.current;
      if (cur && !cur.done && !cur.killing) {
        if (why === 'deletion') this.event('Normal', 'Killing', `Stopping container ${c.spec.name}`, c);
        this.env.containerRuntime.kill(cur, graceMs ?? this.graceMs(undefined));
      }
    }
  }

  private allStopped(): boolean {
    return allStopped(this.containers.values());
  }

  private checkActiveDeadline(): void {
    const ads = this.pod.spec?.activeDeadlineSeconds;
    if (ads === undefined || ads === null) return;
    const now = this.env.clock.now();
    const start = parseTime(this.startTime) ?? now;
    const left = start + ads * 1000 - now;
    if (left > 0) {
      this.cancelDeadline ??= this.env.clock.after(left + 5, () => this.env.requeue());
      return;
    }
    // K pkg/kubelet/active_deadline.go: reason DeadlineExceeded.
    const message = 'Pod was active on the node longer than the specified deadline';
    this.event('Normal', 'DeadlineExceeded', message);
    this.statusReason = 'DeadlineExceeded';
    this.statusMessage = message;
    this.terminalPhase = 'Failed';
    this.killAll('deadline');
  }

  private terminateForDeletion(): void {
    const graceS = this.pod.metadata.deletionGracePeriodSeconds;
    if (!this.killingAll) {
      this.killingAll = true;
      this.killAll('deletion', this.graceMs(graceS ?? undefined));
      for (const c of this.containers.values()) if (!c.current) c.waiting = c.waiting ?? { reason: 'ContainerCreating' };
    } else if (graceS === 0) {
      for (const c of this.containers.values()) if (c.current) this.env.containerRuntime.killNow(c.current);
    }
    if (!this.allStopped()) return;
    // Once stopped, a deleted pod ends in a terminal phase (K kubelet_pods.go getPhase with podIsTerminal).
    if (!this.terminalPhase) this.terminalPhase = podPhase([...this.containers.values()], this.restartPolicy, true) as 'Succeeded' | 'Failed';
    this.status.confirmDeletion(this.namespace, this.name, this.uid);
  }

  private computeTerminal(): void {
    if (this.terminalPhase) return;
    // With sidecars running, the pod is finished once its regular containers are: the sidecars are then stopped.
    const phase = podPhase([...this.containers.values()], this.restartPolicy, false);
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.terminalPhase = phase;
      this.killAll('terminal');
    }
  }

  /** The pod with the status as the worker sees it now (the log source's view, like upstream's status manager cache). */
  get current(): KubeObject {
    return this.torndown ? this.pod : { ...this.pod, status: this.buildStatus() };
  }

  private buildStatus(): any {
    return generatePodStatus({
      pod: this.pod,
      containers: [...this.containers.values()],
      terminalPhase: this.terminalPhase,
      startTime: this.startTime,
      reason: this.statusReason,
      message: this.statusMessage,
      hostIP: this.env.hostIP,
      podIP: this.currentPodIP(),
      now: nowRFC3339(this.env.clock.now()),
    });
  }

  /** Writes the status through the `status` subresource when it changed; resolves once it is written. */
  writeStatus(): Promise<void> {
    return this.status.write();
  }

  /** Kills everything at once (kubelet stop or pod gone) and resolves when the processes are gone. */
  async teardown(removeFiles: boolean): Promise<void> {
    this.torndown = true;
    this.cancelDeadline?.();
    this.cancelConfigRetry?.();
    this.sandboxes?.stopRetrying();
    const waits: Promise<void>[] = [];
    for (const c of this.containers.values()) {
      for (const p of c.probes) p.stop();
      if (c.current) waits.push(this.env.containerRuntime.stop(c.current));
    }
    await Promise.all(waits);
    await this.sandboxes?.close();
    if (removeFiles) fs.rmSync(this.podDir, { recursive: true, force: true });
  }
}
