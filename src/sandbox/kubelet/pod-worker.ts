/**
 * One pod on the sandbox node: runs its containers as local process groups and reports status as the kubelet does.
 *
 * Upstream references: K pkg/kubelet/kuberuntime/kuberuntime_manager.go (SyncPod: init containers first, one at a
 * time; restarts per restartPolicy), kuberuntime_container.go (doBackOff, killContainer), K pkg/kubelet/kubelet_pods.go
 * (getPhase, generateAPIPodStatus, convertToAPIContainerStatuses), K pkg/kubelet/status/generate.go (conditions),
 * K pkg/kubelet/util/flowcontrol backoff (the first restart is immediate, later ones wait base·2^n up to the cap,
 * measured from the last exit; the entry resets after 2×cap without a crash).
 *
 * `sync()` never blocks: it starts what must start, begins kills, and returns. Process exits, probe changes and
 * timers ask the kubelet's queue for another sync.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerRef } from '../controllers/events.js';
import { errorMessage, nowRFC3339, parseTime } from '../controllers/util.js';
import type { EventRecorder, KubeObject } from '../types.js';
import type { KubeletApi } from './api.js';
import type { ContainerMount, PodAddresses, PodRuntime, PodSandbox } from '../network/index.js';
import { buildEnv, ConfigError, expand, materializeVolumes, mountMap, rewritePaths, type EnvContext } from './config.js';
import { allowTraverse, containerUser, lookPath, openWritableVolumes, type ProcessUser, type RunAsOptions } from './run-as.js';
import { pullCredentials } from './pull-secrets.js';
import type { ImagePuller } from './image-pull.js';
import { LogWriter, readLogFile } from './logs.js';
import { ProbeWorker, type ProbeContext, type ProbeKind } from './probes.js';
import { createWritableLayer } from './writable-layer.js';
import { allStopped, newContainerState, type ContainerInstance, type ContainerState } from './container-state.js';
import { generatePodStatus, podPhase, restartPolicyOf } from './pod-status.js';
import { PodStatusManager } from './status-manager.js';
import { Backoff, goDuration } from './backoff.js';
import type { Clock } from '../node/clock.js';

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
  nodeName: string;
  hostIP: string;
  dataDir: string;
  timings: PodWorkerTimings;
  /** Host environment every container inherits (PATH, HOME, …). */
  baseEnv: Record<string, string>;
  /** Extra environment for one container, applied over baseEnv and under the pod's own env (KubeletOptions.containerEnv). */
  containerEnv?: (pod: KubeObject, container: any, baseEnv: Readonly<Record<string, string>>) => Record<string, string> | undefined;
  /** Ask for another sync of this pod, now or after `ms`. */
  requeue: (ms?: number) => void;
  log: (message: string) => void;
  /** Every process group started, for stop(). */
  pids: Set<number>;
  /** Isolated pod sandboxes (network namespace, mounts at mountPath); undefined: host network, part-1 path rewriting. */
  runtime?: PodRuntime;
  /** Host network: each pod's own IP (network/loopback.ts); unset: the host's. */
  podAddresses?: PodAddresses;
  /** Whom containers run as when the sandbox is root (run-as.ts). */
  runAs: RunAsOptions;
  /** The node's image pulls (image-pull.ts): private registries, back-off. */
  images: ImagePuller;
  clock: Clock;
}

const SIGNALS: Record<string, number> = os.constants.signals as unknown as Record<string, number>;

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
  private volumeDirs: Map<string, string> | undefined;
  private volumeError: string | undefined;
  private startTime: string | undefined;
  /** Terminal phase once reached (never reverts). */
  private terminalPhase: 'Succeeded' | 'Failed' | undefined;
  private statusReason: string | undefined;
  private statusMessage: string | undefined;
  private killingAll = false;
  /** FailedToRetrieveImagePullSecret was recorded (once per pod). */
  private pullSecretsWarned = false;
  private deleteRequested = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private configRetryTimer: NodeJS.Timeout | undefined;
  private torndown = false;
  /** The pod's sandbox once created (isolated mode). */
  private sandbox: PodSandbox | undefined;
  private sandboxPending: Promise<void> | undefined;
  private sandboxError: string | undefined;
  private sandboxRetry: NodeJS.Timeout | undefined;
  /** The pod IP, kept in status after the sandbox is gone. */
  private podIP: string | undefined;

  constructor(
    pod: KubeObject,
    private readonly env: PodWorkerEnv,
  ) {
    this.pod = pod;
    this.uid = pod.metadata.uid!;
    this.namespace = pod.metadata.namespace!;
    this.name = pod.metadata.name!;
    this.podDir = path.join(env.dataDir, 'pods', this.uid);
    this.status = new PodStatusManager(
      {
        pod: () => this.pod,
        stopped: () => this.torndown,
        status: () => this.buildStatus(),
        written: (stored) => (this.pod = stored),
      },
      env,
    );
    this.crashBackoff = new Backoff(env.timings.crashLoopBackOffBaseMs, env.timings.crashLoopBackOffMaxMs, env.clock);
    for (const c of pod.spec?.initContainers ?? []) this.containers.set(c.name, newContainerState(c, true));
    for (const c of pod.spec?.containers ?? []) this.containers.set(c.name, newContainerState(c, false));
    // A pod already terminal in the store (kubelet restart) stays terminal.
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') this.terminalPhase = pod.status.phase;
  }

    get waitingOnConfig(): boolean {
    if (this.volumeError) return true;
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

  // -------------------------------------------------------------------------------------------------------------

  sync(pod: KubeObject): void {
    if (this.torndown) return;
    // The cache may still hold the version before our own last status write; never step back to it. (etcd's
    // resourceVersions are increasing integers; anything else is taken as newer.)
    if (!olderThan(pod, this.pod)) this.pod = pod;
    if (!this.startTime) this.startTime = pod.status?.startTime ?? nowRFC3339();

    if (pod.metadata.deletionTimestamp) {
      this.terminateForDeletion();
      void this.writeStatus();
      return;
    }
    if (this.terminalPhase) {
      this.killAll('terminal');
      // The sandbox (namespaces, IP) of a finished pod is released once its containers are gone (the pod IP stays
      // in status, as upstream).
      if (this.allStopped() && this.sandbox) void this.releaseSandbox();
      void this.writeStatus();
      return;
    }
    this.checkActiveDeadline();
    if (this.terminalPhase) {
      void this.writeStatus();
      return;
    }

    if (this.env.runtime && !this.sandbox) {
      this.ensureSandbox();
      void this.writeStatus();
      return;
    }
    if (!this.volumeDirs) this.setupVolumes();
    if (this.volumeDirs) this.syncContainers();
    this.computeTerminal();
    void this.writeStatus();
  }

  /** Creates the pod sandbox in the background (RunPodSandbox); containers wait in ContainerCreating meanwhile. */
  private ensureSandbox(): void {
    if (this.sandboxPending || this.sandboxRetry || !this.env.runtime) return;
    this.sandboxPending = this.env.runtime
      .createSandbox(this.pod, this.podDir)
      .then(async (sb) => {
        this.sandboxPending = undefined;
        if (this.torndown) {
          await sb.destroy();
          return;
        }
        this.sandbox = sb;
        this.podIP = sb.podIP;
        this.sandboxError = undefined;
        this.env.requeue();
      })
      .catch((err) => {
        this.sandboxPending = undefined;
        if (this.torndown) return;
        // K pkg/kubelet/kuberuntime/kuberuntime_manager.go createPodSandbox failure: event FailedCreatePodSandBox.
        const msg = `Failed to create pod sandbox: ${errorMessage(err)}`;
        if (msg !== this.sandboxError) this.event('Warning', 'FailedCreatePodSandBox', msg);
        this.sandboxError = msg;
        this.sandboxRetry = setTimeout(() => {
          this.sandboxRetry = undefined;
          this.env.requeue();
        }, 1000);
      });
  }

  /** Releases the sandbox (namespaces, pod IP) once every container has stopped; the IP stays in status. */
  private releaseSandbox(): Promise<void> {
    const sb = this.sandbox;
    this.sandbox = undefined;
    return sb ? sb.destroy().catch((err) => this.env.log(`kubelet: tearing down the sandbox of ${this.namespace}/${this.name}: ${errorMessage(err)}`)) : Promise.resolve();
  }

  private setupVolumes(): void {
    try {
      this.volumeDirs = materializeVolumes(this.envContext(), path.join(this.podDir, 'volumes'));
      openWritableVolumes(this.pod, this.volumeDirs, this.env.runAs);
      allowTraverse(path.join(this.podDir, 'volumes'), this.env.dataDir);
      this.volumeError = undefined;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const vol = (err as ConfigError & { volume?: string }).volume ?? '';
      const msg = `MountVolume.SetUp failed for volume "${vol}" : ${err.message}`;
      if (msg !== this.volumeError) this.event('Warning', 'FailedMount', msg);
      this.volumeError = msg;
      this.scheduleConfigRetry();
    }
  }

  private scheduleConfigRetry(): void {
    if (this.configRetryTimer) return;
    this.configRetryTimer = setTimeout(() => {
      this.configRetryTimer = undefined;
      this.env.requeue();
    }, this.env.timings.configRetryMs);
  }

  private envContext(): EnvContext {
    return { store: this.env.api, pod: this.pod, hostIP: this.env.hostIP, podIP: this.currentPodIP() ?? '', hostCpus: os.cpus().length, hostMem: os.totalmem() };
  }

  /** Host network: the pod's loopback address (or the host's IP); isolated: the sandbox's, once it exists. */
  private currentPodIP(): string | undefined {
    if (this.env.runtime) return this.podIP;
    return this.env.podAddresses?.addressOf(this.pod) ?? this.env.hostIP;
  }

  private syncContainers(): void {
    const inits = [...this.containers.values()].filter((c) => c.init);
    const regular = [...this.containers.values()].filter((c) => !c.init);
    for (const c of inits) {
      const cur = c.current;
      if (c.sidecar) {
        // Sidecars: the next init container starts once this one is started (startupProbe passed); it is
        // restarted whenever it exits, whatever the pod's restartPolicy (kuberuntime_manager.go computeInitContainerActions).
        if (!cur) {
          this.startContainer(c);
          if (!c.started) return;
          continue;
        }
        if (cur.done) {
          this.restartWithBackoff(c);
          return;
        }
        if (!c.started) return;
        continue;
      }
      if (cur?.done && cur.exitCode === 0) continue;
      if (cur && !cur.done) return; // running: wait for it
      if (!cur) {
        this.startContainer(c);
        return;
      }
      // Failed init container: Never -> the pod fails (computeTerminal); otherwise retried with back-off.
      if (this.restartPolicy !== 'Never') this.restartWithBackoff(c);
      return;
    }
    // Sidecars keep being restarted while the regular containers run.
    for (const c of inits) if (c.sidecar && c.current?.done) this.restartWithBackoff(c);
    for (const c of regular) {
      const cur = c.current;
      if (!cur) {
        this.startContainer(c);
        continue;
      }
      if (!cur.done) continue;
      const restart = this.restartPolicy === 'Always' || (this.restartPolicy === 'OnFailure' && cur.exitCode !== 0);
      if (restart) this.restartWithBackoff(c);
    }
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

  /**
   * The image pull before a container start (K kuberuntime_container.go startContainer: EnsureImageExists first).
   * While a failed pull backs off, syncs leave the container waiting without asking again.
   */
  private imageReady(c: ContainerState): boolean {
    if (c.pullRetryAt !== undefined && Date.now() < c.pullRetryAt) return false;
    c.pullRetryAt = undefined;
    const { credentials, missing } = pullCredentials(this.env.api, this.pod);
    if (missing.length > 0 && !this.pullSecretsWarned) {
      this.pullSecretsWarned = true;
      this.event('Warning', 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`);
    }
    const out = this.env.images.ensure(this.uid, c.spec.image ?? '', c.spec.imagePullPolicy, credentials, (type, reason, message) => this.event(type, reason, message, c));
    if (out.ok) return true;
    c.waiting = { reason: out.reason, message: out.message };
    this.event('Warning', 'Failed', `Error: ${out.reason}`, c);
    // After ErrImagePull the next sync finds the back-off (ImagePullBackOff), as the kubelet's resync does; then the
    // pull is retried when the back-off ends.
    if (out.retryInMs !== undefined) {
      const wait = out.reason === 'ErrImagePull' ? Math.min(1000, out.retryInMs) : out.retryInMs;
      c.pullRetryAt = Date.now() + wait;
      this.env.requeue(wait + 1);
    }
    return false;
  }

  private startContainer(c: ContainerState): void {
    const spec = c.spec;
    if (!this.imageReady(c)) return;
    const cmd: string[] = spec.command ?? [];
    if (!cmd.length) {
      if (c.waiting?.reason === 'CreateContainerError') return;
      c.waiting = {
        reason: 'CreateContainerError',
        message: `container "${spec.name}" has no command: the sandbox runs command+args as a local process and has no image entrypoint to fall back on`,
      };
      this.event('Warning', 'Failed', `Error: ${c.waiting.message}`, c);
      return;
    }
    const sb = this.sandbox;
    let vars: Map<string, string>;
    let user: ProcessUser | undefined;
    try {
      user = containerUser(this.pod, spec, this.env.runAs);
      vars = buildEnv(this.envContext(), spec, sb ? this.env.runtime?.serviceEnv(this.pod) : undefined);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (c.waiting?.message !== err.message) this.event('Warning', 'Failed', `Error: ${err.message}`, c);
      c.waiting = { reason: 'CreateContainerConfigError', message: err.message };
      this.scheduleConfigRetry();
      return;
    }
    const mm = mountMap(spec, this.volumeDirs ?? new Map());
    // Isolated: volumes are mounted at their mountPath, nothing to rewrite. Host network: the part-1 rewriting.
    const hostPath = (s: string): string => rewritePaths(s, mm);
    const rw = sb ? (s: string): string => s : hostPath;
    const layer = createWritableLayer(this.podDir, spec.name, c.restartCount, mm.mounts.map(([p]) => p), this.env.dataDir, sb !== undefined);
    const env: Record<string, string> = {
      ...this.env.baseEnv,
      ...this.env.containerEnv?.(this.pod, spec, this.env.baseEnv),
      ...layer.env,
      HOSTNAME: this.pod.spec?.hostname ?? this.name,
    };
    // Not the sandbox's own HOME (root's): `/`, as a runtime gives a user the image does not know; the pod's env wins.
    if (user) env.HOME = '/';
    for (const [k, v] of vars) env[k] = rw(v);
    // $(VAR) references in command and args are expanded from the container env (K pkg/kubelet/container/helpers.go ExpandContainerCommandAndArgs).
    const argv = [...cmd, ...(spec.args ?? [])].map((a: string) => rw(expand(a, vars)));
    const cwd = spec.workingDir ? rw(spec.workingDir) : undefined;

    const n = c.restartCount;
    const containerID = `sandbox://${crypto.createHash('sha256').update(`${this.uid}/${spec.name}/${n}/${Date.now()}`).digest('hex')}`;
    const logFile = path.join(this.podDir, 'logs', spec.name, `${n}.log`);
    try {
      fs.rmSync(logFile, { force: true });
    } catch {
      /* ignore */
    }
    const inst: ContainerInstance = { n, containerID, startedAt: nowRFC3339(), logFile, writer: new LogWriter(logFile), done: false, killing: false, user };
    c.current = inst;
    c.waiting = undefined;
    c.ready = false;
    c.started = false;
    this.event('Normal', 'Created', `Created container: ${spec.name}`, c);

    if (cwd && !fs.existsSync(hostPath(cwd))) {
      this.finishContainerInstance(c, inst, 128, 'StartError', `failed to start container: chdir to cwd ("${cwd}") set in config.json failed: no such file or directory`);
      this.event('Warning', 'Failed', `Error: ${inst.message}`, c);
      return;
    }
    let file = argv[0];
    let args = argv.slice(1);
    // Looked up first, as the runtime does, with the container user's permissions: through nsenter/unshare an exec
    // failure would only be an exit code, and spawn's execvp reports a PATH directory the user cannot search as EACCES.
    if (!lookPath(argv[0], env.PATH ?? '', cwd ?? process.cwd(), user, sb ? hostPath : undefined)) {
      this.finishContainerInstance(c, inst, 128, 'StartError', `failed to start container: exec: ${JSON.stringify(argv[0])}: executable file not found in $PATH`);
      this.event('Warning', 'Failed', `Error: ${inst.message}`, c);
      return;
    }
    if (sb) {
      const mounts: ContainerMount[] = [];
      for (const m of spec.volumeMounts ?? []) {
        const mp = String(m.mountPath).replace(/\/+$/, '') || '/';
        const e = mm.mounts.find(([p]) => p === mp);
        if (e) mounts.push({ mountPath: e[0], source: e[1], readOnly: m.readOnly === true });
      }
      mounts.push(...layer.mounts);
      [file, ...args] = sb.containerArgv(argv, mounts, cwd, user);
    }
    let child: ChildProcess;
    try {
      // Isolated: the sandbox drops to `user` after its mount setup (nsenter --setuid); host network: spawn does.
      const ids = user && !sb ? { uid: user.uid, gid: user.gid } : {};
      child = spawn(file, args, { cwd: sb ? undefined : cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...ids });
    } catch (err) {
      this.finishContainerInstance(c, inst, 128, 'StartError', `failed to start container: ${errorMessage(err)}`);
      this.event('Warning', 'Failed', `Error: ${inst.message}`, c);
      return;
    }
    inst.proc = child;
    inst.pid = child.pid;
    if (child.pid) this.env.pids.add(child.pid);
    child.stdout!.on('data', (d: Buffer) => inst.writer.write('stdout', d));
    child.stderr!.on('data', (d: Buffer) => inst.writer.write('stderr', d));
    let exitCode: number | undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (inst.done) return;
      const msg =
        err.code === 'ENOENT'
          ? `failed to start container: exec: ${JSON.stringify(argv[0])}: executable file not found in $PATH`
          : `failed to start container: ${err.message}`;
      if (child.pid === undefined) {
        this.finishContainerInstance(c, inst, 128, 'StartError', msg);
        this.event('Warning', 'Failed', `Error: ${msg}`, c);
      }
    });
    child.on('exit', (code, signal) => {
      exitCode = code ?? 128 + (signal ? (SIGNALS[signal] ?? 9) : 9);
      // The container's PID 1 is gone: like a PID namespace, take the rest of the group with it.
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
    child.on('close', () => {
      if (child.pid) this.env.pids.delete(child.pid);
      if (inst.done) return;
      const code = exitCode ?? 137;
      this.finishContainerInstance(c, inst, code, code === 0 ? 'Completed' : 'Error');
    });
    if (child.pid !== undefined) {
      this.event('Normal', 'Started', `Started container ${spec.name}`, c);
      if (sb && child.pid) {
        // Probes start once the command runs, not while the sandbox's mount setup still does (upstream: after the
        // runtime started the container).
        const pid = child.pid;
        const deadline = Date.now() + 5000;
        const wait = (): void => {
          if (c.current !== inst || inst.done || this.torndown) return;
          if (sb.commandStarted(pid) || Date.now() > deadline) {
            this.startProbes(c, inst, env, cwd, rw);
            this.env.requeue();
          } else setTimeout(wait, 10);
        };
        wait();
      } else this.startProbes(c, inst, env, cwd, rw);
    }
  }

  private finishContainerInstance(c: ContainerState, inst: ContainerInstance, exitCode: number, reason: string, message?: string): void {
    inst.done = true;
    inst.exitCode = exitCode;
    inst.reason = reason;
    inst.message = message;
    inst.finishedAt = nowRFC3339();
    // terminationMessagePolicy FallbackToLogsOnError: the message is the log tail (80 lines, 2048 bytes at most;
    // K kuberuntime_container.go readLastStringFromContainerLogs). terminationMessagePath cannot be honoured without
    // mount namespaces (part-1 limitation): nothing maps /dev/termination-log.
    if (!message && exitCode !== 0 && c.spec.terminationMessagePolicy === 'FallbackToLogsOnError' && reason !== 'StartError') {
      inst.writer.close();
      const tail = readLogFile(inst.logFile).slice(-80).map((l) => l.text).join('');
      const buf = Buffer.from(tail, 'utf8');
      const msg = buf.length > 2048 ? buf.subarray(buf.length - 2048).toString('utf8') : tail;
      if (msg) inst.message = msg;
    }
    inst.finishedMs = this.env.clock.now();
    inst.cancelKill?.();
    inst.writer.close();
    if (c.current === inst) {
      for (const p of c.probes) p.stop();
      c.probes = [];
      c.ready = false;
      c.started = false;
    }
    this.env.requeue();
  }

  private startProbes(c: ContainerState, inst: ContainerInstance, env: Record<string, string>, cwd: string | undefined, rw: (s: string) => string): void {
    const spec = c.spec;
    const ports = new Map<string, number>();
    for (const p of spec.ports ?? []) if (p.name) ports.set(p.name, p.containerPort);
    const sb = this.sandbox;
    const ctx: ProbeContext = {
      host: this.currentPodIP() ?? this.env.hostIP,
      ports,
      env,
      cwd,
      rewrite: rw,
      // Exec probes run inside the container's namespaces (its mounts, the pod's network).
      wrapExec: sb && inst.pid ? (argv) => sb.execArgv(inst.pid!, argv, cwd, inst.user) : undefined,
      user: sb ? undefined : inst.user,
    };
    const alive = (): boolean => c.current === inst && !inst.done && !inst.killing;
    if (!spec.startupProbe) c.started = true;
    if (!spec.readinessProbe && c.started) c.ready = true;
    const label: Record<ProbeKind, string> = { startup: 'Startup', readiness: 'Readiness', liveness: 'Liveness' };
    const onChange = (w: ProbeWorker, failed?: string): void => {
      if (!alive()) return;
      if (failed !== undefined) this.event('Warning', 'Unhealthy', `${label[w.kind]} probe failed: ${failed}`, c);
      if (w.kind === 'startup' && w.result === true && !c.started) {
        c.started = true;
        if (!spec.readinessProbe) c.ready = true;
        // The status sync this causes upstream probes readiness at once (ProbeWorker.trigger).
        else c.probes.find((p) => p.kind === 'readiness')?.trigger();
        this.env.requeue();
      } else if (w.kind === 'readiness' && c.ready !== (w.result === true)) {
        c.ready = w.result === true;
        this.env.requeue();
      } else if ((w.kind === 'liveness' || w.kind === 'startup') && w.result === false) {
        this.event('Normal', 'Killing', `Container ${spec.name} failed ${w.kind} probe, will be restarted`, c);
        const probeGrace = (w.kind === 'liveness' ? spec.livenessProbe : spec.startupProbe)?.terminationGracePeriodSeconds;
        this.killContainerInstance(inst, this.graceMs(probeGrace));
      }
    };
    if (spec.startupProbe) c.probes.push(new ProbeWorker('startup', spec.startupProbe, ctx, alive, onChange));
    if (spec.readinessProbe) c.probes.push(new ProbeWorker('readiness', spec.readinessProbe, ctx, () => alive() && c.started, onChange));
    if (spec.livenessProbe) c.probes.push(new ProbeWorker('liveness', spec.livenessProbe, ctx, () => alive() && c.started, onChange));
  }

  private graceMs(seconds: number | undefined): number {
    const s = seconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    const ms = s * 1000;
    return this.env.timings.maxGracePeriodMs !== undefined ? Math.min(ms, this.env.timings.maxGracePeriodMs) : ms;
  }

  /** SIGTERM to the process group, SIGKILL after the grace period (K kuberuntime_container.go killContainer). */
  private killContainerInstance(inst: ContainerInstance, graceMs: number): void {
    if (inst.done || inst.killing) return;
    inst.killing = true;
    const pid = inst.pid;
    if (pid === undefined) return;
    const sig = (s: NodeJS.Signals): void => {
      try {
        process.kill(-pid, s);
      } catch {
        /* already gone */
      }
    };
    if (graceMs <= 0) sig('SIGKILL');
    else {
      sig('SIGTERM');
      inst.cancelKill = this.env.clock.after(graceMs, () => sig('SIGKILL'));
    }
  }

  private killAll(why: 'deletion' | 'deadline' | 'terminal', graceMs?: number): void {
    for (const c of this.containers.values()) {
      for (const p of c.probes) p.stop();
      const cur = c.current;
      if (cur && !cur.done && !cur.killing) {
        if (why === 'deletion') this.event('Normal', 'Killing', `Stopping container ${c.spec.name}`, c);
        this.killContainerInstance(cur, graceMs ?? this.graceMs(undefined));
      }
    }
  }

  private allStopped(): boolean {
    return allStopped(this.containers.values());
  }

  private checkActiveDeadline(): void {
    const ads = this.pod.spec?.activeDeadlineSeconds;
    if (ads === undefined || ads === null) return;
    const start = parseTime(this.startTime) ?? Date.now();
    const left = start + ads * 1000 - Date.now();
    if (left > 0) {
      if (!this.deadlineTimer) this.deadlineTimer = setTimeout(() => this.env.requeue(), left + 5);
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
      for (const c of this.containers.values()) {
        const cur = c.current;
        if (cur && !cur.done && cur.pid) {
          try {
            process.kill(-cur.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
    }
    if (!this.allStopped()) return;
    // Once stopped, a deleted pod ends in a terminal phase (K kubelet_pods.go getPhase with podIsTerminal).
    if (!this.terminalPhase) this.terminalPhase = podPhase([...this.containers.values()], this.restartPolicy, true) as 'Succeeded' | 'Failed';
    if (this.deleteRequested) return;
    this.deleteRequested = true;
    // Final container states first, then the confirmation (DELETE, grace 0, uid precondition), as upstream's
    // status manager does once the pod's containers are gone.
    void (async () => {
      try {
        await this.writeStatus();
        await this.env.api.confirmPodDeletion(this.namespace, this.name, this.uid);
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code !== 404 && code !== 409) {
          this.env.log(`kubelet: deleting pod ${this.namespace}/${this.name}: ${errorMessage(err)}`);
          this.deleteRequested = false;
          this.env.requeue(200);
        }
      }
    })();
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

  // -------------------------------------------------------------------------------------------------------------

  /** Kills everything at once (kubelet stop or pod gone) and resolves when the processes are gone. */
  async teardown(removeFiles: boolean): Promise<void> {
    this.torndown = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (this.configRetryTimer) clearTimeout(this.configRetryTimer);
    if (this.sandboxRetry) clearTimeout(this.sandboxRetry);
    const waits: Promise<void>[] = [];
    for (const c of this.containers.values()) {
      for (const p of c.probes) p.stop();
      const cur = c.current;
      if (cur && !cur.done && cur.proc) {
        const proc = cur.proc;
        waits.push(
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null || proc.signalCode !== null) {
              // exited; 'close' may still be pending
            }
            proc.once('close', () => resolve());
            setTimeout(resolve, 2000).unref();
          }),
        );
        try {
          process.kill(-cur.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await Promise.all(waits);
    if (this.sandboxPending) await this.sandboxPending;
    await this.releaseSandbox();
    if (removeFiles) fs.rmSync(this.podDir, { recursive: true, force: true });
  }
}
