/**
 * The node's container runtime: a container is a local process group. Starting one composes its configuration (env,
 * mounts, command, working directory, user, writable layer), spawns it and watches it until it exits; killing one
 * signals its group. The runtime owns every process group it started, so a node that stops or exits leaves none behind.
 *
 * Upstream references: K pkg/kubelet/kuberuntime/kuberuntime_container.go (startContainer: generateContainerConfig,
 * create, start; killContainer: SIGTERM, SIGKILL after the grace period; readLastStringFromContainerLogs for
 * FallbackToLogsOnError), K pkg/kubelet/container/helpers.go (ExpandContainerCommandAndArgs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../../engine/errors.js';
import { nowRFC3339 } from '../machinery/time.js';
import { systemClock, type Clock } from '../machinery/clock.js';
import type { ContainerMount, PodAddresses, PodRuntime, PodSandbox } from '../network/index.js';
import { ONE_OUTPUT } from '../network/container-setup.js';
import type { KubeObject } from '../types.js';
import { buildEnv, ConfigError, expand, mountMap, rewritePaths, type EnvContext } from './config.js';
import type { ContainerInstance, ContainerState } from './container-state.js';
import { readLogTail } from './log-reader.js';
import { LogWriter } from './logs.js';
import { containerUser, lookPath, type ProcessUser, type RunAsOptions } from './run-as.js';
import { createWritableLayer } from './writable-layer.js';

export interface ContainerRuntimeOptions {
  dataDir: string;
  /** Host environment every container inherits (PATH, HOME, …). */
  baseEnv: Record<string, string>;
  /** Extra environment for one container, applied over baseEnv and under the pod's own env (KubeletOptions.containerEnv). */
  containerEnv?: (pod: KubeObject, container: any, baseEnv: Readonly<Record<string, string>>) => Record<string, string> | undefined;
  /**
   * Host network: each pod's loopback address and its bind shim (network/loopback.ts). The shim's variables are set
   * over the pod's own env, as a runtime's injected settings are: a stage's `PYTHONPATH` must not drop the shim.
   */
  podAddresses?: Pick<PodAddresses, 'containerEnv'>;
  /** Whom containers run as when the sandbox is root (run-as.ts). */
  runAs: RunAsOptions;
  /** Isolated pod sandboxes (their Service environment); undefined: host network. */
  network?: PodRuntime;
  clock: Clock;
}

/** One pod as the runtime sees it while starting one of its containers. */
export interface PodContext {
  pod: KubeObject;
  podDir: string;
  volumeDirs: Map<string, string>;
  /** The pod's sandbox (isolated mode); undefined: host network, paths rewritten to the volume directories. */
  sandbox: PodSandbox | undefined;
  /** What the container's env resolves against (fieldRefs, resourceFieldRefs, Secrets and ConfigMaps). */
  envContext(): EnvContext;
  /** Records an event on the container being started. */
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** The container waits for a Secret or ConfigMap: try again later. */
  retryConfig(): void;
  /** The container changed (exited, its command runs): sync the pod again. */
  requeue(): void;
  /** Whether the pod's worker still runs. */
  alive(): boolean;
  /** The container's command runs: its probes may start. */
  running(inst: ContainerInstance, process: ProcessConfig): void;
}

/** How a container's process runs, as composed from its spec. */
export interface ProcessConfig {
  argv: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  user: ProcessUser | undefined;
  /** A path as the container names it -> as the host sees it (host network), or as is (isolated). */
  rewrite: (s: string) => string;
  /** A path as the container names it -> as the host sees it. */
  hostPath: (s: string) => string;
  /** Isolated: what to mount where. */
  mounts: ContainerMount[];
}

const SIGNALS: Record<string, number> = os.constants.signals as unknown as Record<string, number>;

/** How long probes wait for an isolated container's command to replace the sandbox's mount setup. */
const COMMAND_START_TIMEOUT_MS = 5000;

/**
 * Real time, not the kubelet's clock, for the waits on real processes (a command getting past the mount setup, a
 * killed process closing): they take real time whatever that clock says.
 */
const processTime: Clock = systemClock;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

export class ContainerRuntime {
  /** Every process group started and not yet closed. */
  private readonly pids = new Set<number>();

  constructor(private readonly opts: ContainerRuntimeOptions) {}

  /** Starts `c` (its image is present): a new instance, or a waiting reason when it cannot start. */
  start(pod: PodContext, c: ContainerState): void {
    const config = this.processConfig(pod, c);
    if (!config) return;
    const inst = this.newInstance(pod, c, config.user);
    const startError = this.startError(pod, config);
    if (startError !== undefined) {
      this.finish(pod, c, inst, 128, 'StartError', startError);
      pod.event('Warning', 'Failed', `Error: ${inst.message}`);
      return;
    }
    this.launch(pod, c, inst, config);
  }

  /** The process a container runs (generateContainerConfig), or undefined with `c.waiting` set. */
  private processConfig(pod: PodContext, c: ContainerState): ProcessConfig | undefined {
    const spec = c.spec;
    const cmd: string[] = spec.command ?? [];
    if (!cmd.length) {
      if (c.waiting?.reason === 'CreateContainerError') return undefined;
      c.waiting = {
        reason: 'CreateContainerError',
        message: `container "${spec.name}" has no command: the sandbox runs command+args as a local process and has no image entrypoint to fall back on`,
      };
      pod.event('Warning', 'Failed', `Error: ${c.waiting.message}`);
      return undefined;
    }
    const sb = pod.sandbox;
    let vars: Map<string, string>;
    let user: ProcessUser | undefined;
    try {
      user = containerUser(pod.pod, spec, this.opts.runAs);
      vars = buildEnv(pod.envContext(), spec, sb ? this.opts.network?.serviceEnv(pod.pod) : undefined);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (c.waiting?.message !== err.message) pod.event('Warning', 'Failed', `Error: ${err.message}`);
      c.waiting = { reason: 'CreateContainerConfigError', message: err.message };
      pod.retryConfig();
      return undefined;
    }
    const mm = mountMap(spec, pod.volumeDirs);
    // Isolated: volumes are mounted at their mountPath, nothing to rewrite. Host network: the part-1 rewriting.
    const hostPath = (s: string): string => rewritePaths(s, mm);
    const rewrite = sb ? (s: string): string => s : hostPath;
    const layer = createWritableLayer(pod.podDir, spec.name, c.restartCount, mm.mounts.map(([p]) => p), this.opts.dataDir, sb !== undefined);
    const env: Record<string, string> = {
      ...this.opts.baseEnv,
      ...this.opts.containerEnv?.(pod.pod, spec, this.opts.baseEnv),
      ...layer.env,
      HOSTNAME: pod.pod.spec?.hostname ?? pod.pod.metadata.name!,
    };
    // Not the sandbox's own HOME (root's): `/`, as a runtime gives a user the image does not know; the pod's env wins.
    if (user) env.HOME = '/';
    for (const [k, v] of vars) env[k] = rewrite(v);
    Object.assign(env, this.opts.podAddresses?.containerEnv(pod.pod, env));
    // $(VAR) references in command and args are expanded from the container env (ExpandContainerCommandAndArgs).
    const argv = [...cmd, ...(spec.args ?? [])].map((a: string) => rewrite(expand(a, vars)));
    const cwd = spec.workingDir ? rewrite(spec.workingDir) : undefined;
    const mounts: ContainerMount[] = [];
    for (const m of spec.volumeMounts ?? []) {
      const mp = String(m.mountPath).replace(/\/+$/, '') || '/';
      const e = mm.mounts.find(([p]) => p === mp);
      if (e) mounts.push({ mountPath: e[0], source: e[1], readOnly: m.readOnly === true });
    }
    mounts.push(...layer.mounts);
    return { argv, env, cwd, user, rewrite, hostPath, mounts };
  }

  /** A new instance of `c`, its log file truncated: the container is created. */
  private newInstance(pod: PodContext, c: ContainerState, user: ProcessUser | undefined): ContainerInstance {
    const n = c.restartCount;
    const name = c.spec.name;
    const containerID = `sandbox://${crypto.createHash('sha256').update(`${pod.pod.metadata.uid}/${name}/${n}/${this.opts.clock.now()}`).digest('hex')}`;
    const logFile = path.join(pod.podDir, 'logs', name, `${n}.log`);
    try {
      fs.rmSync(logFile, { force: true });
    } catch {
      /* ignore */
    }
    const inst: ContainerInstance = { n, containerID, startedAt: nowRFC3339(this.opts.clock.now()), logFile, writer: new LogWriter(logFile, this.opts.clock), done: false, killing: false, user };
    c.current = inst;
    c.waiting = undefined;
    c.ready = false;
    c.started = false;
    pod.event('Normal', 'Created', `Created container: ${name}`);
    return inst;
  }

  /** Why the process cannot start (a missing working directory or executable), as the runtime words it. */
  private startError(pod: PodContext, { argv, env, cwd, user, hostPath }: ProcessConfig): string | undefined {
    if (cwd && !fs.existsSync(hostPath(cwd))) return `failed to start container: chdir to cwd ("${cwd}") set in config.json failed: no such file or directory`;
    // Looked up first, as the runtime does, with the container user's permissions: through nsenter/unshare an exec
    // failure would only be an exit code, and spawn's execvp reports a PATH directory the user cannot search as EACCES.
    if (!lookPath(argv[0], env.PATH ?? '', cwd ?? process.cwd(), user, pod.sandbox ? hostPath : undefined)) {
      return `failed to start container: exec: ${JSON.stringify(argv[0])}: executable file not found in $PATH`;
    }
    return undefined;
  }

  /** Spawns the process group and watches it; its probes start once the command runs. */
  private launch(pod: PodContext, c: ContainerState, inst: ContainerInstance, config: ProcessConfig): void {
    const sb = pod.sandbox;
    const { argv, env, cwd, user } = config;
    // Host network: a shell joins stderr to stdout, as the isolated mount setup does (network/container-setup.ts ONE_OUTPUT).
    let [file, ...args]: string[] = ['/bin/sh', '-c', `exec "$@" ${ONE_OUTPUT}`, argv[0], ...argv];
    if (sb) [file, ...args] = sb.containerArgv(argv, config.mounts, cwd, user);
    let child: ChildProcess;
    try {
      // Isolated: the sandbox drops to `user` after its mount setup (nsenter --setuid); host network: spawn does.
      const ids = user && !sb ? { uid: user.uid, gid: user.gid } : {};
      child = spawn(file, args, { cwd: sb ? undefined : cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...ids });
    } catch (err) {
      this.finish(pod, c, inst, 128, 'StartError', `failed to start container: ${errorMessage(err)}`);
      pod.event('Warning', 'Failed', `Error: ${inst.message}`);
      return;
    }
    inst.proc = child;
    inst.pid = child.pid;
    if (child.pid) this.pids.add(child.pid);
    this.watch(pod, c, inst, child, argv[0]);
    if (child.pid === undefined) return;
    pod.event('Normal', 'Started', `Started container ${c.spec.name}`);
    if (!sb) {
      pod.running(inst, config);
      return;
    }
    // Probes start once the command runs, not while the sandbox's mount setup still does (upstream: after the
    // runtime started the container).
    const pid = child.pid;
    const deadline = processTime.now() + COMMAND_START_TIMEOUT_MS;
    const wait = (): void => {
      if (c.current !== inst || inst.done || !pod.alive()) return;
      if (sb.commandStarted(pid) || processTime.now() > deadline) {
        pod.running(inst, config);
        pod.requeue();
      } else processTime.after(10, wait);
    };
    wait();
  }

  /** Output to the log; the exit code once the process and its output are closed. */
  private watch(pod: PodContext, c: ContainerState, inst: ContainerInstance, child: ChildProcess, command: string): void {
    child.stdout!.on('data', (d: Buffer) => inst.writer.write('stdout', d));
    child.stderr!.on('data', (d: Buffer) => inst.writer.write('stderr', d));
    let exitCode: number | undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (inst.done) return;
      const msg =
        err.code === 'ENOENT' ? `failed to start container: exec: ${JSON.stringify(command)}: executable file not found in $PATH` : `failed to start container: ${err.message}`;
      if (child.pid === undefined) {
        this.finish(pod, c, inst, 128, 'StartError', msg);
        pod.event('Warning', 'Failed', `Error: ${msg}`);
      }
    });
    child.on('exit', (code, signal) => {
      exitCode = code ?? 128 + (signal ? (SIGNALS[signal] ?? 9) : 9);
      // The container's PID 1 is gone: like a PID namespace, take the rest of the group with it.
      if (child.pid) killGroup(child.pid, 'SIGKILL');
    });
    child.on('close', () => {
      if (child.pid) this.pids.delete(child.pid);
      if (inst.done) return;
      const code = exitCode ?? 137;
      this.finish(pod, c, inst, code, code === 0 ? 'Completed' : 'Error');
    });
  }

  /** Records how an instance ended; its probes stop. */
  private finish(pod: PodContext, c: ContainerState, inst: ContainerInstance, exitCode: number, reason: string, message?: string): void {
    inst.done = true;
    inst.exitCode = exitCode;
    inst.reason = reason;
    inst.message = message;
    inst.finishedAt = nowRFC3339(this.opts.clock.now());
    // terminationMessagePolicy FallbackToLogsOnError: the message is the log tail (80 lines, 2048 bytes at most;
    // readLastStringFromContainerLogs). terminationMessagePath cannot be honoured without mount namespaces (part-1
    // limitation): nothing maps /dev/termination-log.
    if (!message && exitCode !== 0 && c.spec.terminationMessagePolicy === 'FallbackToLogsOnError' && reason !== 'StartError') {
      inst.writer.close();
      const msg = readLogTail(inst.logFile, 80, 2048);
      if (msg) inst.message = msg;
    }
    inst.finishedMs = this.opts.clock.now();
    inst.cancelKill?.();
    inst.writer.close();
    if (c.current === inst) {
      for (const p of c.probes) p.stop();
      c.probes = [];
      c.ready = false;
      c.started = false;
    }
    pod.requeue();
  }

  /** SIGTERM to the process group, SIGKILL after the grace period (killContainer). */
  kill(inst: ContainerInstance, graceMs: number): void {
    if (inst.done || inst.killing) return;
    inst.killing = true;
    const pid = inst.pid;
    if (pid === undefined) return;
    if (graceMs <= 0) killGroup(pid, 'SIGKILL');
    else {
      killGroup(pid, 'SIGTERM');
      inst.cancelKill = this.opts.clock.after(graceMs, () => killGroup(pid, 'SIGKILL'));
    }
  }

  /** SIGKILL now, whatever grace period a kill in progress had (a deletion with grace period 0). */
  killNow(inst: ContainerInstance): void {
    if (!inst.done && inst.pid) killGroup(inst.pid, 'SIGKILL');
  }

  /** SIGKILL now; resolves once the process closed (2 s at most). */
  stop(inst: ContainerInstance): Promise<void> {
    const proc = inst.proc;
    if (inst.done || !proc) return Promise.resolve();
    const closed = new Promise<void>((resolve) => {
      proc.once('close', () => resolve());
      processTime.after(2000, resolve);
    });
    killGroup(inst.pid!, 'SIGKILL');
    return closed;
  }

  /** Kills every process group still running (the node stops, or its process exits). */
  killAll(): void {
    for (const pid of this.pids) killGroup(pid, 'SIGKILL');
    this.pids.clear();
  }
}
