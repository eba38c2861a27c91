/**
 * The sandbox kubelet: runs the pods bound to its node as local process groups (see pod-worker.ts), registers its
 * Node, reports pod status through the `status` subresource, serves container logs (PodLogSource), and confirms
 * graceful pod deletions once the containers are stopped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { badRequest, notFound } from '../apiserver/errors.js';
import { createEventRecorder } from '../controllers/events.js';
import { errorMessage, nowRFC3339, splitKey, WorkQueue, type LogFn } from '../controllers/util.js';
import type { ClusterStore, EventRecorder, KubeObject, PodLogOptions, PodLogSource, StoreEvent } from '../types.js';
import type { PodRuntime } from '../network/index.js';
import { openLogStream } from './logs.js';
import { PodWorker, type PodWorkerTimings } from './pod-worker.js';

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
  /** The Node's status.capacity/allocatable cpu and memory (default: this machine's, os.cpus().length and os.totalmem()). */
  nodeCapacity?: { cpu?: string; memory?: string };
  /**
   * Isolated pod sandboxes (network/index.ts): a network namespace and IP per pod, volumes at their mountPath,
   * Service names and variables. Unset: pods share the host network (podIP = hostIP) and mount paths are rewritten.
   */
  runtime?: PodRuntime;
  /** Create/refresh the Node object (default true). */
  registerNode?: boolean;
  events?: EventRecorder;
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

function nodeObject(name: string, hostIP: string, capacity: KubeletOptions['nodeCapacity']): KubeObject {
  const now = nowRFC3339();
  const cap = {
    cpu: capacity?.cpu ?? String(os.cpus().length),
    memory: capacity?.memory ?? `${Math.floor(os.totalmem() / 1024)}Ki`,
    pods: '110',
    'ephemeral-storage': '0',
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': process.platform, 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch },
    },
    spec: {},
    status: {
      capacity: cap,
      allocatable: cap,
      conditions: [
        { type: 'Ready', status: 'True', lastHeartbeatTime: now, lastTransitionTime: now, reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
      addresses: [
        { type: 'InternalIP', address: hostIP },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.33.0-sandbox',
        operatingSystem: process.platform,
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
        containerRuntimeVersion: `sandbox://${process.version}`,
        osImage: `${os.type()} ${os.release()}`,
        kernelVersion: os.release(),
      },
    },
  };
}

export function startKubelet(store: ClusterStore, opts: KubeletOptions): Kubelet {
  const nodeName = opts.nodeName ?? 'sandbox';
  const hostIP = opts.hostIP ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const events = opts.events ?? createEventRecorder(store, { host: nodeName, log });
  const timings: PodWorkerTimings = {
    crashLoopBackOffBaseMs: opts.crashLoopBackOffBaseMs ?? 10_000,
    crashLoopBackOffMaxMs: opts.crashLoopBackOffMaxMs ?? 300_000,
    configRetryMs: opts.configRetryMs ?? 10_000,
    maxGracePeriodMs: opts.maxGracePeriodMs,
  };
  const baseEnv = opts.baseEnv ?? defaultBaseEnv();
  const pids = new Set<number>();
  const workers = new Map<string, PodWorker>();
  fs.mkdirSync(path.join(opts.dataDir, 'pods'), { recursive: true });

  if (opts.registerNode !== false) {
    try {
      if (!store.find('nodes', undefined, nodeName)) store.create('nodes', undefined, nodeObject(nodeName, hostIP, opts.nodeCapacity));
    } catch (err) {
      log(`kubelet: registering node ${nodeName}: ${errorMessage(err)}`);
    }
  }

  const queue: WorkQueue = new WorkQueue(
    async (key) => {
      const [ns, name] = splitKey(key);
      const pod = store.find('pods', ns, name);
      let w = workers.get(key);
      if (w && (!pod || pod.metadata.uid !== w.uid || pod.spec?.nodeName !== nodeName)) {
        workers.delete(key);
        await w.teardown(true);
        w = undefined;
      }
      if (!pod || pod.spec?.nodeName !== nodeName) return;
      if (!w) {
        w = new PodWorker(pod, {
          store,
          events,
          nodeName,
          hostIP,
          dataDir: opts.dataDir,
          timings,
          baseEnv,
          containerEnv: opts.containerEnv,
          pids,
          runtime: opts.runtime,
          log,
          requeue: (ms) => (ms ? queue.addAfter(key, ms) : queue.add(key)),
        });
        workers.set(key, w);
      }
      w.sync(pod);
    },
    { name: 'kubelet', log },
  );

  const onEvent = (ev: StoreEvent): void => {
    if (ev.key === 'pods') {
      const onNode = ev.object.spec?.nodeName === nodeName || ev.old?.spec?.nodeName === nodeName;
      if (onNode || workers.has(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`))
        queue.add(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
    } else if (ev.key === 'secrets' || ev.key === 'configmaps') {
      const ns = ev.object.metadata.namespace;
      for (const [key, w] of workers) if (w.namespace === ns && w.waitingOnConfig) queue.add(key);
    }
  };
  const unsubscribe = store.subscribe(onEvent);
  // Pods bound before the kubelet started.
  for (const p of store.list('pods', undefined).items) if (p.spec?.nodeName === nodeName) queue.add(`${p.metadata.namespace}/${p.metadata.name}`);

  // Never leave process groups behind if the host process exits without stop().
  const onExit = (): void => {
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.on('exit', onExit);

  const logs: PodLogSource = {
    open(namespace: string, podName: string, lo: PodLogOptions): Readable {
      const pod = store.find('pods', namespace, podName);
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
      unsubscribe();
      await queue.stop();
      const all = [...workers.values()];
      workers.clear();
      await Promise.all(all.map((w) => w.teardown(false)));
      onExit();
      pids.clear();
      process.off('exit', onExit);
    },
  };
}
