/**
 * The sandbox kubelet: runs the pods bound to its node as local process groups (see pod-worker.ts), reports pod
 * status through the `status` subresource, serves container logs (PodLogSource, served over HTTPS by
 * node/kubelet-server.ts), and confirms graceful pod deletions once the containers are stopped. It reads and writes
 * the cluster only through a KubeletApi (node/view.ts over HTTP(S)); the Node and its Lease are node/node-status.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { badRequest, notFound } from '../machinery/errors.js';
import { splitKey, WorkQueue, type LogFn } from '../controllers/util.js';
import { systemClock, type Clock } from '../node/clock.js';
import type { ViewEvent } from '../node/view.js';
import type { EventRecorder, KubeObject, PodLogOptions, PodLogSource } from '../types.js';
import type { PodAddresses, PodRuntime } from '../network/index.js';
import type { KubeletApi } from './api.js';
import { ContainerRuntime } from './container-runtime.js';
import { ImagePuller, type PrivateRegistry } from './image-pull.js';
import { openLogStream } from './logs.js';
import { PodWorker, type PodWorkerTimings } from './pod-worker.js';
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
  /** Without `runtime`: each pod's IP on the host network (network/loopback.ts); unset: the host's. */
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

export function startKubelet(api: KubeletApi, opts: KubeletOptions): Kubelet {
  const nodeName = opts.nodeName ?? 'sandbox';
  const hostIP = opts.hostIP ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const events = opts.events;
  const timings: PodWorkerTimings = {
    crashLoopBackOffBaseMs: opts.crashLoopBackOffBaseMs ?? 10_000,
    crashLoopBackOffMaxMs: opts.crashLoopBackOffMaxMs ?? 300_000,
    configRetryMs: opts.configRetryMs ?? 10_000,
    maxGracePeriodMs: opts.maxGracePeriodMs,
  };
  const baseEnv = opts.baseEnv ?? defaultBaseEnv();
  const clock = opts.clock ?? systemClock;
  const containerRuntime = new ContainerRuntime({ dataDir: opts.dataDir, baseEnv, containerEnv: opts.containerEnv, runAs: opts.runAs ?? {}, network: opts.runtime, clock });
  const images = new ImagePuller({ registries: opts.registries ?? [], clock, ...(opts.imagePullBackOffBaseMs !== undefined ? { backOffBaseMs: opts.imagePullBackOffBaseMs } : {}) });
  const workers = new Map<string, PodWorker>();
  fs.mkdirSync(path.join(opts.dataDir, 'pods'), { recursive: true });

  const queue: WorkQueue = new WorkQueue(
    async (key) => {
      const [ns, name] = splitKey(key);
      let pod = api.find('pods', ns, name);
      let w = workers.get(key);
      if (w && (!pod || pod.metadata.uid !== w.uid || pod.spec?.nodeName !== nodeName)) {
        workers.delete(key);
        await w.teardown(true);
        api.release(w.uid);
        opts.podAddresses?.release(w.uid);
        images.forget(w.uid);
        w = undefined;
      }
      if (!pod || pod.spec?.nodeName !== nodeName) return;
      if (!w) {
        // Its Secrets, ConfigMaps and tokens are watched and fetched before the first sync, so a missing one is
        // really missing (no FailedMount for a cache still listing).
        await api.reference(pod);
        if (stopped) return;
        pod = api.find('pods', ns, name);
        if (!pod || pod.spec?.nodeName !== nodeName) {
          api.release(pod?.metadata.uid ?? '');
          return;
        }
        w = new PodWorker(pod, {
          api,
          events,
          nodeName,
          hostIP,
          dataDir: opts.dataDir,
          timings,
          containerRuntime,
          network: opts.runtime,
          podAddresses: opts.podAddresses,
          runAs: opts.runAs ?? {},
          images,
          clock,
          log,
          requeue: (ms) => (ms ? queue.addAfter(key, ms) : queue.add(key)),
        });
        workers.set(key, w);
      }
      w.sync(pod);
    },
    { name: 'kubelet', log },
  );

  let stopped = false;
  const onEvent = (ev: ViewEvent): void => {
    if (ev.key === 'pods') {
      const onNode = ev.object.spec?.nodeName === nodeName || ev.old?.spec?.nodeName === nodeName;
      if (onNode || workers.has(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`))
        queue.add(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
    } else if (ev.key === 'secrets' || ev.key === 'configmaps' || ev.key === 'tokens') {
      const ns = ev.object.metadata.namespace;
      for (const [key, w] of workers) if (w.namespace === ns && w.waitingOnConfig) queue.add(key);
    }
  };
  const unsubscribe = api.subscribe(onEvent);
  // Pods bound before the kubelet started.
  for (const p of api.list('pods', undefined).items) if (p.spec?.nodeName === nodeName) queue.add(`${p.metadata.namespace}/${p.metadata.name}`);

  // Never leave process groups behind if the host process exits without stop().
  const onExit = (): void => containerRuntime.killAll();
  process.on('exit', onExit);

  const logs: PodLogSource = {
    open(namespace: string, podName: string, lo: PodLogOptions): Readable {
      // The worker's copy first: it carries our latest status write before the watch brings it back.
      const cached = api.find('pods', namespace, podName);
      const own = workers.get(`${namespace}/${podName}`);
      const pod = own && own.uid === cached?.metadata.uid ? own.current : cached;
      if (!pod) throw notFound({ group: '', resource: 'pods' }, podName);
      // K pkg/registry/core/pod/strategy.go LogLocation
      const names: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
      const initNames: string[] = (pod.spec?.initContainers ?? []).map((c: any) => c.name);
      let container = lo.container;
      if (!container) {
        if (names.length === 1) container = names[0];
        else if (names.length === 0) throw badRequest(`a container name must be specified for pod ${podName}`);
        else {
          let msg = `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`;
          if (initNames.length) msg += ` or one of the init containers: [${initNames.join(' ')}]`;
          throw badRequest(msg);
        }
      } else if (!names.includes(container) && !initNames.includes(container)) {
        throw badRequest(`container ${container} is not valid for pod ${podName}`);
      }
      if (!pod.spec?.nodeName) return Readable.from([]);
      // K pkg/kubelet/kubelet_pods.go validateContainerLogStatus
      const statuses: any[] = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
      const st = statuses.find((s) => s.name === container);
      if (!st) throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`);
      const lastT = st.lastState?.terminated;
      let cID: string;
      if (lo.previous) {
        if (!lastT?.containerID) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
        cID = lastT.containerID;
      } else if (st.state?.running) cID = st.containerID;
      else if (st.state?.terminated) {
        cID = st.state.terminated.containerID || lastT?.containerID;
        if (!cID) throw badRequest(`container "${container}" in pod "${podName}" is terminated`);
      } else if (lastT) {
        if (!lastT.containerID) throw badRequest(`container "${container}" in pod "${podName}" is terminated`);
        cID = lastT.containerID;
      } else if (st.state?.waiting) {
        const reason = st.state.waiting.reason;
        if (reason === 'ErrImagePull') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
        if (reason === 'ImagePullBackOff') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
        throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
      } else throw badRequest(`container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
      const w = workers.get(`${namespace}/${podName}`);
      const src = w && w.uid === pod.metadata.uid ? w.logFor(container, cID) : undefined;
      if (!src) return Readable.from([]);
      return openLogStream(src.file, src.writer, lo);
    },
  };

  return {
    logs,
    async stop() {
      stopped = true;
      unsubscribe();
      await queue.stop();
      const all = [...workers.values()];
      workers.clear();
      await Promise.all(all.map((w) => w.teardown(false)));
      for (const w of all) api.release(w.uid);
      containerRuntime.killAll();
      process.off('exit', onExit);
    },
  };
}
