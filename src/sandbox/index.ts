/**
 * The embedded Kubernetes sandbox: an API server speaking the Kubernetes REST protocol over HTTPS on
 * 127.0.0.1 (a per-sandbox CA and bearer token, both in its kubeconfig only), the controllers our deploys depend on, and a kubelet that runs containers' commands
 * as local processes. Images are labels, not pulled; there is one node.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClusterStore } from './apiserver/registry.js';
import { newToken, startApiServer, type FaultOptions } from './apiserver/index.js';
import { startControllers, type ControllerOptions } from './controllers/index.js';
import { nodeCapacity } from './machinery/capacity.js';
import type { KubeletOptions } from './kubelet/index.js';
import { sandboxKubeconfig, writeKubeconfig } from './kubeconfig.js';
import { createCertificateAuthority } from './pki.js';
import { directDial, serviceUrlOf, type Dialer, type IsolationMode, type ServiceUrl } from './network/index.js';
import { certKubeconfig, nodeCredentials } from './node/credentials.js';
import { attachNode, type NodeOptions, type SandboxNode } from './node/index.js';
import type { Clock } from './machinery/clock.js';
import type { ClusterStore } from './types.js';

export interface SandboxOptions {
  /** Port to listen on (0 or unset: any free port). */
  port?: number;
  /** Where pods' volumes and logs live; a temporary directory (removed on stop) when unset. */
  dataDir?: string;
  /** Write a kubeconfig for the sandbox to this path once it answers (0600; a directory it creates, 0700). */
  kubeconfigPath?: string;
  /** Namespace the kubeconfig's context points at. */
  namespace?: string;
  faults?: FaultOptions;
  /** The node's Python environments (NodeOptions.python). */
  python?: NodeOptions['python'];
  /** The node's cpu and memory (default this machine's: os.cpus().length, os.totalmem()): its Node object and the scheduler's resource fit. */
  capacity?: { cpu?: string | number; memory?: string | number };
  controllers?: Partial<ControllerOptions>;
  kubelet?: Partial<Omit<KubeletOptions, 'dataDir' | 'nodeName' | 'events' | 'runtime' | 'clock'>>;
  /** Time for the controllers and the node (default the system clock; `controllers.clock` overrides it for the controllers). */
  clock?: Clock;
  /**
   * Pod network isolation (network/index.ts). 'auto' (default): a network namespace and IP per pod, Service names
   * and cluster IPs inside pods, volumes at their mountPath — when the host allows it (Linux, `ip`, `unshare`,
   * `nsenter`, and root or user namespaces: rootless), else the host network with one notice. 'none': always the
   * host network.
   */
  isolation?: IsolationMode;
  /** Receives the one notice when pods fall back to the host network (default console.warn). */
  warn?: (message: string) => void;
}

export interface Sandbox {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** PEM of the sandbox CA, which signed the API server's certificate. */
  caCert: string;
  /** The sandbox's bearer token (32 random bytes): what authenticates to its API server. */
  token: string;
  /** A kubeconfig (YAML) for the sandbox: certificate-authority-data and the token. */
  kubeconfig: string;
  store: ClusterStore;
  /** Where pods' volumes and logs live. */
  dataDir: string;
  /**
   * 'isolated': pods in their own network namespaces (`podCIDR`; `rootless` when not root: in a user namespace of
   * ours); 'host': pods on the host network (`reason`).
   */
  network: { mode: 'isolated' | 'host'; rootless?: boolean; podCIDR?: string; reason?: string };
  /**
   * A host URL for every Service port (`http://127.0.0.1:<port>`, forwarding round-robin to ready endpoints like
   * the cluster IP does), after the listeners for the Services that exist now are up.
   */
  serviceUrls(): Promise<ServiceUrl[]>;
  /** The URL of one Service port (the first port unless `port` names or numbers one); undefined when none. */
  serviceUrl(name: string, opts?: { namespace?: string; port?: number | string }): Promise<string | undefined>;
  /** Makes an image's Python packages present on the node (SandboxNode.loadImage). */
  loadImage(image: string, requirements: string[], opts?: { ownPackages?: boolean }): Promise<void>;
  /** Stops the server, the controllers and every process the kubelet started. */
  stop(): Promise<void>;
}

export const SANDBOX_NODE_NAME = 'sandbox';
export { persistentCacheDir } from './python/index.js';
export { SANDBOX_CONTEXT, sandboxKubeconfig, writeKubeconfig, type SandboxEndpoint } from './kubeconfig.js';

/** Starts a sandbox; resolves once the API server answers. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'bodywork-sandbox-'));
  mkdirSync(dataDir, { recursive: true });
  // One CA per sandbox: it signs the API server's serving certificate, and client certificates it signed authenticate.
  const ca = await createCertificateAuthority('bodywork-sandbox-ca');
  const token = newToken();
  const store = createClusterStore();
  const hostIP = options.kubelet?.hostIP ?? '127.0.0.1';
  const creds = await nodeCredentials(ca, { nodeName: SANDBOX_NODE_NAME, hostIP });
  const capacity = nodeCapacity(options.capacity);
  const controllers = startControllers(store, { nodeName: SANDBOX_NODE_NAME, nodeCapacity: capacity, rootCA: ca.cert, clock: options.clock, ...options.controllers });
  let server: Awaited<ReturnType<typeof startApiServer>> | undefined;
  let node: SandboxNode | undefined;
  try {
    const kubeletClient = { ...creds.apiServerKubeletClient, ca: ca.cert };
    // The node's network reaches pod IPs (rootless, the host cannot); it starts after the API server.
    const dial: Dialer = (host, port, timeoutMs) => (node?.network.dial ?? directDial)(host, port, timeoutMs);
    server = await startApiServer({ store, port: options.port ?? 0, host: '127.0.0.1', ca, token, kubeletClient, faults: options.faults, dial });
    // The same node code as on any cluster, attached over HTTPS with its own identity (system:node:sandbox).
    node = await attachNode({
      kubeconfig: certKubeconfig(server.url, ca.cert, creds.node, `system:node:${SANDBOX_NODE_NAME}`),
      nodeName: SANDBOX_NODE_NAME,
      dataDir,
      hostIP,
      capacity,
      kubelet: options.kubelet,
      python: options.python,
      serving: { ...creds.kubeletServing, clientCA: ca.cert },
      isolation: options.isolation,
      warn: options.warn,
      log: options.kubelet?.log,
      clock: options.clock,
    });
  } catch (err) {
    // Nothing may outlive a failed start (attachNode cleans up after itself).
    await controllers.stop();
    await server?.close();
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const network = node.network;
  const kubeconfig = sandboxKubeconfig(server, options.namespace);
  if (options.kubeconfigPath) writeKubeconfig(options.kubeconfigPath, kubeconfig);
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    caCert: server.caCert,
    token: server.token,
    kubeconfig,
    store,
    dataDir,
    network: { mode: network.mode, ...(network.rootless ? { rootless: true } : {}), ...(network.podCIDR ? { podCIDR: network.podCIDR } : {}), ...(network.reason ? { reason: network.reason } : {}) },
    async serviceUrls() {
      await network.settled();
      return network.serviceUrls();
    },
    serviceUrl: (name, o) => serviceUrlOf(network, name, o),
    loadImage: (image, requirements, opts) => node.loadImage(image, requirements, opts),
    stop: () =>
      (stopped ??= (async () => {
        // The node first: no process may outlive the sandbox, whatever else fails; it stops the pod network too.
        await node.stop();
        await controllers.stop();
        await server!.close();
        if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
      })()),
  };
}
