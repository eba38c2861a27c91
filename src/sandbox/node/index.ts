/**
 * One sandbox node, attached to any Kubernetes API server given only a kubeconfig: the API view (view.ts), the pod
 * network and Service proxy (network/), the kubelet (kubelet/), the Node and its Lease (node-status.ts), and the
 * kubelet API over HTTPS (kubelet-server.ts). The embedded sandbox attaches it to its own API server; the upstream
 * test cluster (attach.ts) to kube-apiserver. One node implementation, two control planes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startKubelet, type Kubelet, type KubeletOptions } from '../kubelet/index.js';
import { startNetwork, type IsolationMode, type Network } from '../network/index.js';
import { serviceEnvVars } from '../network/hosts.js';
import { shareWithPods } from '../kubelet/run-as.js';
import { createPythonEnvironments, type PythonEnvironments } from '../python/index.js';
import type { KubeObject } from '../types.js';
import { systemClock, type Clock } from '../machinery/clock.js';
import { createApiEventRecorder } from './events.js';
import { nodeImageLayer } from './node-image.js';
import { NodeHttp, type KubeconfigInput } from './http.js';
import { startKubeletServer, type KubeletServer } from './kubelet-server.js';
import { NodeStatusReporter } from './node-status.js';
import { NodeView } from './view.js';

export { NodeView, type ObjectReader, type ViewEvent } from './view.js';
export { NodeStatusReporter, nodeObject } from './node-status.js';
export { systemClock, type Clock } from '../machinery/clock.js';

export interface NodeOptions {
  /** How the node reaches its API server (identity system:node:<name> on an RBAC + Node-authorizer cluster). */
  kubeconfig: KubeconfigInput;
  /** Node name (default `sandbox`). */
  nodeName?: string;
  /** Root for pod volumes and logs. */
  dataDir: string;
  /** The node's InternalIP, the kubelet API's address and hostNetwork pods' IP (default 127.0.0.1). */
  hostIP?: string;
  capacity?: { cpu?: string; memory?: string };
  /** The kubelet's own options (its clock is the node's `clock`). */
  kubelet?: Partial<Omit<KubeletOptions, 'dataDir' | 'nodeName' | 'events' | 'runtime' | 'hostIP' | 'clock'>>;
  /** The kubelet API over HTTPS: serving cert/key (PEM, naming hostIP) and the CA of allowed client certificates. */
  serving?: { cert: string; key: string; clientCA: string; port?: number; allowedUsers?: string[] };
  isolation?: IsolationMode;
  /**
   * Python environments (python/index.ts), how this node runs images: every container, whatever its image label, gets
   * its image's venv (`python3 -m venv --system-site-packages`, cached by image) first on PATH, so its python/pip never
   * touch the host's Python. `executable`: the system interpreter (default /usr/bin/python3, else python3 on PATH);
   * `cacheDir`: where venvs live (default `<dataDir>/python`; a persistent one reuses them). false: PATH as the host has it.
   */
  python?: { executable?: string; cacheDir?: string } | false;
  warn?: (message: string) => void;
  log?: (message: string) => void;
  /**
   * Time for all of the node (default the system clock): its watches' restarts, the kubelet's work queue, back-offs,
   * deadlines, probes and timestamps, its Events, the Lease and status reports.
   */
  clock?: Clock;
  /** Lease renewal period (default 10 s) and full status report period (default 5 min). */
  leaseRenewMs?: number;
  statusReportMs?: number;
}

export interface SandboxNode {
  nodeName: string;
  view: NodeView;
  network: Network;
  kubelet: Kubelet;
  status: NodeStatusReporter;
  /** The kubelet API (undefined without `serving`). */
  server?: KubeletServer;
  /**
   * Makes an image's Python packages present on this node (PythonEnvironments.install), as `kind load` or a
   * pre-pull would: for images whose packages pods cannot download themselves.
   */
  loadImage(image: string, requirements: string[], opts?: { ownPackages?: boolean }): Promise<void>;
  /** Kills every pod process, stops the network, the watches and the heartbeats. The Node object stays, as upstream. */
  stop(): Promise<void>;
}

/** Attaches a node; resolves once its caches listed, the network is up and the Node is registered. */
export async function attachNode(o: NodeOptions): Promise<SandboxNode> {
  const nodeName = o.nodeName ?? 'sandbox';
  const hostIP = o.hostIP ?? '127.0.0.1';
  const log = o.log ?? o.kubelet?.log ?? (() => {});
  const clock = o.clock ?? systemClock;
  fs.mkdirSync(path.join(o.dataDir, 'pods'), { recursive: true });
  const api = new NodeHttp(o.kubeconfig);
  const view = new NodeView(api, { nodeName, log, clock });
  const undo: (() => Promise<void> | void)[] = [() => api.close(), () => view.stop()];
  const unwind = async (): Promise<void> => {
    for (const f of undo.reverse()) await f();
  };
  try {
    await view.start();
    const apiServer = serverAddress(api.server);
    const network = await startNetwork(view, { isolation: o.isolation, hostIP, warn: o.warn, log, shimDir: path.join(o.dataDir, 'loopback'), apiServer });
    undo.push(() => network.stop());
    const events = createApiEventRecorder(api, { host: nodeName, log, clock });
    const pythonDir = (o.python && o.python.cacheDir) || path.join(o.dataDir, 'python');
    const python = o.python === false ? undefined : createPythonEnvironments({ dataDir: pythonDir, python: o.python?.executable, log });
    if (python) undo.push(() => python.close());
    // As root, pods run as a non-root user (kubelet/run-as.ts) and create venvs and pip-install in this cache.
    if (python) shareWithPods(pythonDir, o.kubelet?.runAs);
    const containerEnv = containerEnvironment({ dataDir: o.dataDir, apiServer, network, python, own: o.kubelet?.containerEnv });
    const kubelet = startKubelet(view, {
      ...o.kubelet,
      containerEnv,
      log,
      dataDir: o.dataDir,
      nodeName,
      hostIP,
      events,
      runtime: network.runtime,
      ...(network.podAddresses ? { podAddresses: network.podAddresses } : {}),
      clock,
    });
    undo.push(() => kubelet.stop());
    const server = o.serving ? await startKubeletServer({ logs: kubelet.logs, host: hostIP, ...o.serving }) : undefined;
    if (server) undo.push(() => server.close());
    const status = new NodeStatusReporter(api, {
      nodeName,
      hostIP,
      kubeletPort: server?.port ?? 0,
      capacity: o.capacity,
      clock,
      renewMs: o.leaseRenewMs,
      statusReportMs: o.statusReportMs,
      log,
    });
    undo.push(() => status.stop());
    await status.start();
    let stopped: Promise<void> | undefined;
    return {
      nodeName,
      view,
      network,
      kubelet,
      status,
      server,
      async loadImage(image, requirements, opts) {
        if (!python) throw new Error(`cannot load image ${image}: this node runs without Python environments`);
        await python.install(image, requirements, opts);
      },
      // Kubelet first (no process may outlive the node), then the rest in reverse order of start.
      stop: () => (stopped ??= (async () => {
        status.stop();
        await kubelet.stop();
        await python?.close();
        await server?.close();
        await network.stop();
        view.stop();
        await events.flush();
        api.close();
      })()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** Host and port of a server URL (IPv6 brackets removed). */
function serverAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
}

type ContainerEnv = NonNullable<KubeletOptions['containerEnv']>;

/**
 * What a container's environment gets from this node, like image layers, each over the last: the host network's
 * `kubernetes` Service, the Python venv, Node images' `node`, then the caller's own (`own`). The loopback bind shim
 * (host network) is not one of them: the kubelet sets it over the pod's own env (KubeletOptions.podAddresses).
 */
function containerEnvironment(o: {
  dataDir: string;
  apiServer: { host: string; port: number };
  network: Network;
  python: PythonEnvironments | undefined;
  own: ContainerEnv | undefined;
}): ContainerEnv {
  const { network, python, apiServer } = o;
  const nodeImage = nodeImageLayer(o.dataDir);
  const image = (c: any): string => (typeof c?.image === 'string' ? c.image : '');
  // Host network: cluster IPs do not route on the host, so the `kubernetes` Service's variables, which upstream's
  // kubelet gives every pod, name the API server's own address, where in-cluster clients (the runner) find it.
  const kubernetes: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes' }, spec: { clusterIP: apiServer.host, ports: [{ name: 'https', port: apiServer.port, protocol: 'TCP' }] } };
  const kubernetesEnv = network.mode === 'host' ? Object.fromEntries(serviceEnvVars(kubernetes)) : undefined;
  const layers = [
    kubernetesEnv && (() => kubernetesEnv),
    python && ((_pod: KubeObject, c: any, base: Readonly<Record<string, string>>) => python.containerEnv(image(c), base)),
    (_pod: KubeObject, c: any, base: Readonly<Record<string, string>>) => nodeImage(image(c), base),
    o.own,
  ].filter((f): f is ContainerEnv => typeof f === 'function');
  return (pod, c, base) => {
    let env: Record<string, string> = {};
    for (const layer of layers) env = { ...env, ...layer(pod, c, { ...base, ...env }) };
    return env;
  };
}
