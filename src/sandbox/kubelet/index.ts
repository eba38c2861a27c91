/**
 * The sandbox kubelet: runs the pods bound to its node as local process groups, reports pod status through the
 * `status` subresource, serves container logs (PodLogSource, served over HTTPS by node/kubelet-server.ts), and
 * confirms graceful pod deletions once the containers are stopped. It reads and writes the cluster only through a
 * KubeletApi (node/view.ts over HTTP(S)); the Node and its Lease are node/node-status.ts.
 *
 * Its parts, along upstream's (K pkg/kubelet):
 * - this file: the pod loop (kubelet.go syncLoop): a queue of pods, one PodWorker each;
 * - pod-worker.ts: one pod's sync (pod_workers.go, kubelet.go SyncPod), with pod-actions.ts (which containers start,
 *   computePodActions), pod-sandbox.ts, pod-volumes.ts, pod-images.ts (the pull before a start) and backoff.ts;
 * - container-runtime.ts: containers as process groups (kuberuntime_container.go), with config.ts, run-as.ts,
 *   writable-layer.ts, logs.ts; container-state.ts is what the parts share about a container;
 * - prober.ts and probes.ts: probes (prober/);
 * - pod-status.ts and status-manager.ts: the API status (kubelet_pods.go generateAPIPodStatus, status/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { LogFn } from '../machinery/log.js';
import { splitKey } from '../machinery/objects.js';
import { WorkQueue } from '../machinery/workqueue.js';
import { notFound } from '../machinery/errors.js';
import { systemClock, type Clock } from '../machinery/clock.js';
import type { ViewEvent } from '../node/view.js';
import type { EventRecorder, KubeObject, PodLogOptions, PodLogSource } from '../types.js';
import type { PodAddresses, PodRuntime } from '../network/index.js';
import type { KubeletApi } from './api.js';
import { ContainerRuntime } from './container-runtime.js';
import { ImagePuller, type PrivateRegistry } from './image-pull.js';
import { LogFileStream } from './log-reader.js';
import { logTarget } from './logs.js';
import { PodWorker, type PodWorkerEnv } from './pod-worker.js';
import type { RunAsOptions } from './run-as.js';

export interface KubeletOptions {
  /** Node name pods are bound to (default `sandbox`). */
  nodeName?: string;
  /** Root for pod volumes and logs: `<dataDir>/pods/<uid>/{volumes,logs}`. */
  dataDir: string;
  /** Host IP reported in status (default 127.0.0.1); also the pod IP of pods on the host network (no `runtime`, or hostNetwork). */
  hostIP?: string;
  /** Crash-loop back-off base in ms (default 10 000, upstream). */
  crashLoopBackOffBaseMs?: number;
  /** Crash-loop back-off cap in ms (default 300 000, upstream MaxContainerBackOff). */
  crashLoopBackOffMaxMs?: number;
  /** Retry period for containers waiting on a missing Secret/ConfigMap, besides store events (default 10 000). */
  configRetryMs?: number;
  /** Caps every termination grace period (default: none, the pod's own value, upstream default 30 s). */
  maxGracePeriodMs?: number;
  /** Environment every container inherits (default: PATH, HOME, LANG, TMPDIR, USER of this process). */
  baseEnv?: Record<string, string>;
  /**
   * Extra environment for one container, like an image's ENV: applied over baseEnv, under the container's own `env`
   * (the sandbox's Python environments prepend their venv to PATH here). Called synchronously at each container start.
   */
  containerEnv?: (pod: KubeObject, container: any, baseEnv: Readonly<Record<string, string>>) => Record<string, string> | undefined;
  /**
   * Isolated pod sandboxes (network/index.ts): a network namespace and IP per pod, volumes at their mountPath,
   * Service names and variables. Unset: pods share the host network (podIP = hostIP) and mount paths are rewritten.
   */
  runtime?: PodRuntime;
  /**
   * Without `runtime`: each pod's IP on the host network, and the bind shim's environment, set over the pod's own env
   * (network/loopback.ts); unset: the host's IP.
   */
  podAddresses?: PodAddresses;
  /** Whom pods run as when the sandbox is root (run-as.ts): default user 65534:65534; allowRootPods permits uid/gid 0. */
  runAs?: RunAsOptions;
  /**
   * Private registries whose images need matching credentials in the pod's image pull secrets (image-pull.ts); every
   * other image is public and present. Failed pulls back off from `imagePullBackOffBaseMs` (default 10 000, upstream).
   */
  registries?: PrivateRegistry[];
  imagePullBackOffBaseMs?: number;
  /** Time for back-offs, deadlines and timers (default the system clock). */
  clock?: Clock;
  events: EventRecorder;
  log?: LogFn;
}

export interface Kubelet {
  logs: PodLogSource;
  /** Kills every process started and stops reacting to the store. Pod objects are left as they are. */
  stop(): Promise<void>;
}

function defaultBaseEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'USER', 'SYSTEMROOT']) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Starts the kubelet on `api`: it syncs the pods bound to its node until stop(). */
export function startKubelet(api: KubeletApi, opts: KubeletOptions): Kubelet {
  return new SandboxKubelet(api, opts);
}

const podKey = (o: KubeObject): string => `${o.metadata.namespace}/${o.metadata.name}`;

/**
 * The kubelet's pod loop (K pkg/kubelet/kubelet.go syncLoop, much reduced): watch events of its pods and of what they
 * reference queue the pod; a queued pod is synced by its PodWorker, created on first sight and torn down once the pod
 * is gone, replaced (another uid) or bound elsewhere.
 */
class SandboxKubelet implements Kubelet {
  readonly logs: PodLogSource;
  private readonly nodeName: string;
  /** What every PodWorker shares, but its own requeue. */
  private readonly shared: Omit<PodWorkerEnv, 'requeue'>;
  private readonly containerRuntime: ContainerRuntime;
  private readonly images: ImagePuller;
  private readonly workers = new Map<string, PodWorker>();
  private readonly queue: WorkQueue;
  private readonly unsubscribe: () => void;
  private stopped = false;
  /** Never leave process groups behind if the host process exits without stop(). */
  private readonly onExit = (): void => this.containerRuntime.killAll();

  constructor(
    private readonly api: KubeletApi,
    private readonly opts: KubeletOptions,
  ) {
    this.nodeName = opts.nodeName ?? 'sandbox';
    const log = opts.log ?? (() => {});
    const clock = opts.clock ?? systemClock;
    const baseEnv = opts.baseEnv ?? defaultBaseEnv();
    this.containerRuntime = new ContainerRuntime({ dataDir: opts.dataDir, baseEnv, containerEnv: opts.containerEnv, podAddresses: opts.podAddresses, runAs: opts.runAs ?? {}, network: opts.runtime, clock });
    this.images = new ImagePuller({ registries: opts.registries ?? [], clock, ...(opts.imagePullBackOffBaseMs !== undefined ? { backOffBaseMs: opts.imagePullBackOffBaseMs } : {}) });
    this.shared = {
      api,
      events: opts.events,
      hostIP: opts.hostIP ?? '127.0.0.1',
      dataDir: opts.dataDir,
      timings: {
        crashLoopBackOffBaseMs: opts.crashLoopBackOffBaseMs ?? 10_000,
        crashLoopBackOffMaxMs: opts.crashLoopBackOffMaxMs ?? 300_000,
        configRetryMs: opts.configRetryMs ?? 10_000,
        maxGracePeriodMs: opts.maxGracePeriodMs,
      },
      containerRuntime: this.containerRuntime,
      network: opts.runtime,
      podAddresses: opts.podAddresses,
      runAs: opts.runAs ?? {},
      images: this.images,
      clock,
      log,
    };
    fs.mkdirSync(path.join(opts.dataDir, 'pods'), { recursive: true });
    this.queue = new WorkQueue((key) => this.syncPod(key), { name: 'kubelet', log, clock });
    this.logs = { open: (namespace, podName, lo) => this.openLogs(namespace, podName, lo) };
    this.unsubscribe = api.subscribe((ev) => this.onEvent(ev));
    // Pods bound before the kubelet started.
    for (const p of api.list('pods', undefined).items) if (p.spec?.nodeName === this.nodeName) this.queue.add(podKey(p));
    process.on('exit', this.onExit);
  }

  private onEvent(ev: ViewEvent): void {
    if (ev.key === 'pods') {
      const onNode = ev.object.spec?.nodeName === this.nodeName || ev.old?.spec?.nodeName === this.nodeName;
      if (onNode || this.workers.has(podKey(ev.object))) this.queue.add(podKey(ev.object));
    } else if (ev.key === 'secrets' || ev.key === 'configmaps' || ev.key === 'tokens') {
      const ns = ev.object.metadata.namespace;
      for (const [key, w] of this.workers) if (w.namespace === ns && w.waitingOnConfig) this.queue.add(key);
    }
  }

  /** One pass for a queued pod: its worker is removed, created or synced. */
  private async syncPod(key: string): Promise<void> {
    const [ns, name] = splitKey(key);
    let pod = this.api.find('pods', ns, name);
    let w = this.workers.get(key);
    if (w && (!pod || pod.metadata.uid !== w.uid || pod.spec?.nodeName !== this.nodeName)) {
      this.workers.delete(key);
      await w.teardown(true);
      this.api.release(w.uid);
      this.opts.podAddresses?.release(w.uid);
      this.images.forget(w.uid);
      w = undefined;
    }
    if (!pod || pod.spec?.nodeName !== this.nodeName) return;
    if (!w) {
      // Its Secrets, ConfigMaps and tokens are watched and fetched before the first sync, so a missing one is
      // really missing (no FailedMount for a cache still listing).
      await this.api.reference(pod);
      if (this.stopped) return;
      pod = this.api.find('pods', ns, name);
      if (!pod || pod.spec?.nodeName !== this.nodeName) {
        this.api.release(pod?.metadata.uid ?? '');
        return;
      }
      w = new PodWorker(pod, { ...this.shared, requeue: (ms) => (ms ? this.queue.addAfter(key, ms) : this.queue.add(key)) });
      this.workers.set(key, w);
    }
    w.sync(pod);
  }

  private openLogs(namespace: string, podName: string, lo: PodLogOptions): Readable {
    // The worker's copy first: it carries our latest status write before the watch brings it back.
    const cached = this.api.find('pods', namespace, podName);
    const own = this.workers.get(`${namespace}/${podName}`);
    const pod = own && own.uid === cached?.metadata.uid ? own.current : cached;
    if (!pod) throw notFound({ group: '', resource: 'pods' }, podName);
    const target = logTarget(pod, podName, lo);
    if (!target) return Readable.from([]);
    const w = this.workers.get(`${namespace}/${podName}`);
    const src = w && w.uid === pod.metadata.uid ? w.logFor(target.container, target.containerID) : undefined;
    if (!src) return Readable.from([]);
    return new LogFileStream(src.file, src.writer, lo, this.shared.clock);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    await this.queue.stop();
    const all = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(all.map((w) => w.teardown(false)));
    for (const w of all) this.api.release(w.uid);
    this.containerRuntime.killAll();
    process.off('exit', this.onExit);
  }
}
