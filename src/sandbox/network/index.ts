/**
 * Pod networking for the sandbox: a network namespace per pod, Service names and cluster IPs that work inside pods,
 * and host URLs for every Service.
 *
 * MECHANISM (Linux, root or rootless; `ip`, `unshare`, `nsenter`; no iptables/nftables):
 *
 *   host netns                      node netns (one per sandbox)               pod netns (one per pod)
 *   ─────────────                   ──────────────────────────────             ───────────────────────
 *   bwsbxN 10.244.N.254  ══veth══   uplink 10.244.N.253                        eth0 10.244.N.x/24
 *   route 10.244.N.0/24 via .253    br0 10.244.N.1/24 (gateway)   ══veth══     default via 10.244.N.1
 *                                   local 10.96.0.0/12 dev lo (cluster IPs)    lo up, own hostname
 *
 * - Each sandbox gets its own "node" network namespace and /24 (N chosen free at start; the host-side link name
 *   `bwsbxN` is the lock), so parallel sandboxes never share a bridge, a subnet or a cluster IP, and cluster IPs
 *   (which every sandbox allocates from the same 10.96.0.0/12, `kubernetes` = 10.96.0.1 in all) never appear on the
 *   host. The host reaches pods through one route; pods reach each other over the bridge and the host's
 *   10.244.N.254 through the gateway (proxy ARP). Pods have no route to the outside world (no NAT without iptables).
 * - Services: the userspace proxy (proxy.ts) listens on clusterIP:port inside the node namespace (sockets created
 *   there by a helper process and passed to this process over IPC) and on 127.0.0.1:<port> on the host; names come
 *   from each pod's /etc/hosts (hosts.ts, rewritten when Services change); `*_SERVICE_HOST/PORT` variables from the
 *   Services that exist when a container starts.
 * - Namespaces are held by processes tied to this one (linux.ts), so nothing outlives a crash; stop() removes
 *   everything at once. Volumes appear at their mountPath through per-container mount namespaces
 *   (container-setup.ts).
 *
 * ROOTLESS (not root, and `unshare --user --map-root-user` works): the same picture without the host column. The
 * node namespace's helper is root of a user namespace that maps only our uid and owns every namespace of the
 * sandbox; `ip`, the pod holders and the containers enter it first (NodeNetwork.enter). Nothing can route from the
 * host into it (no veth into the host netns, no host route for an unprivileged user), so whatever connects to a pod
 * IP (the Service proxy, the kubelet's HTTP/TCP probes, the API server's proxy subresource) uses `dial`, which asks
 * the helper to connect from inside and hand the socket over IPC (dial.ts). Pods reach the host only through the
 * Service listeners the helper made (the `kubernetes` Service). Each sandbox's subnet lives in its own namespaces,
 * so parallel sandboxes may even share one. Containers run as our uid in a user namespace of their own
 * (container-setup.ts): runAsUser cannot be honoured (kubelet/run-as.ts), as when root is missing on the host network.
 *
 * FALLBACK (`isolation: 'none'`, not Linux, not root without user namespaces or with BODYWORK_SANDBOX_USERNS=0, a
 * tool missing, or the namespaces cannot be created): pods share the host network as in part 1 (each its own
 * loopback address on Linux, loopback.ts), which is announced once through `warn`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ObjectReader, ViewEvent } from '../node/view.js';
import { errorMessage } from '../../engine/errors.js';
import type { KubeObject } from '../types.js';
import { hostsFileContent, podHostname, resolvConfContent, serviceAddresses, serviceEnv } from './hosts.js';
import { directDial, type Dialer } from './dial.js';
import { findExecutable, NodeNetwork, run, type Tools } from './linux.js';
import { IsolatedPodSandbox, type PodSandbox } from './pod.js';
import { podAddressesFor, type LoopbackAddresses } from './loopback.js';
import { ServiceProxy, type ServiceUrl } from './proxy.js';

export type { ContainerMount } from './container-setup.js';
export type { PodSandbox } from './pod.js';
export type { ServiceUrl } from './proxy.js';
export { connectVia, directDial, type Dialer } from './dial.js';

/** Set to `0`, a sandbox that is not root uses the host network instead of rootless namespaces. */
export const USERNS_VARIABLE = 'BODYWORK_SANDBOX_USERNS';

export type IsolationMode = 'auto' | 'none';

/** What the kubelet asks of per-pod addresses on the host network: the address, and the bind shim's environment. */
export type PodAddresses = Pick<LoopbackAddresses, 'addressOf' | 'release' | 'containerEnv'>;

export interface NetworkOptions {
  /** 'auto' (default): isolate pods when the host allows it, else fall back to the host network; 'none': never. */
  isolation?: IsolationMode;
  /** Host IP the kubelet reports (hostNetwork pods get it as pod IP). */
  hostIP?: string;
  /** Where the one fallback notice goes (default: console.warn). */
  warn?: (message: string) => void;
  log?: (message: string) => void;
  /** The API server this node talks to: the `kubernetes` Service's backend when it has no endpoints (proxy.ts). */
  apiServer?: { host: string; port: number };
  /** Host network only: a directory for the bind shim of per-pod loopback addresses (loopback.ts); without it pods get the host's IP. */
  shimDir?: string;
}

/** What the kubelet needs to run pods in isolated sandboxes. */
export interface PodRuntime {
  /** Creates the pod's network namespace etc.; `podDir` is `<dataDir>/pods/<uid>`. */
  createSandbox(pod: KubeObject, podDir: string): Promise<PodSandbox>;
  /** Service environment variables for a container starting now. */
  serviceEnv(pod: KubeObject): Map<string, string>;
  /** Network.dial: how the kubelet's probes reach pod IPs. */
  dial: Dialer;
}

export interface Network {
  mode: 'isolated' | 'host';
  /** Isolated without root: the namespaces belong to a user namespace of ours (linux.ts). */
  rootless?: boolean;
  /** Why pods use the host network (mode 'host'). */
  reason?: string;
  /** The pod subnet (mode 'isolated'). */
  podCIDR?: string;
  /** For the kubelet; undefined in host mode. */
  runtime?: PodRuntime;
  /** Host mode on Linux: each pod's own loopback address, and the bind shim's environment (loopback.ts). */
  podAddresses?: LoopbackAddresses;
  /** Connects to a pod IP (or any address) as the host would: rootless through the node namespace. */
  dial: Dialer;
  /** A host URL for every Service port. */
  serviceUrls(): ServiceUrl[];
  /** Resolves once the Service listeners for the current Services are up. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** The host URL of one Service port (the first port unless `port` names or numbers one), once the listeners are up. */
export async function serviceUrlOf(network: Network, name: string, o: { namespace?: string; port?: number | string } = {}): Promise<string | undefined> {
  await network.settled();
  const ports = network.serviceUrls().filter((u) => u.name === name && u.namespace === (o.namespace ?? 'default'));
  const p = o.port === undefined ? ports[0] : ports.find((u) => u.portName === o.port || u.port === Number(o.port));
  return p?.url;
}

export function fallbackNotice(reason: string, perPodAddresses: boolean): string {
  const ports = perPodAddresses
    ? `each pod gets its own loopback address (127.1.x.y), and Python servers binding 0.0.0.0 are narrowed to it, so replicas can share a port; `
    : `two pods cannot listen on the same port (a Deployment's second replica on port 5000 fails), `;
  return (
    `bodywork sandbox: pod network isolation is OFF (${reason}). Pods share the host network: ${ports}Service names (http://web:5000) and ` +
    `cluster IPs do not resolve or route inside pods, the only *_SERVICE_HOST variables are the \`kubernetes\` Service's (the API server's own address), and volumes are reached through ` +
    `rewritten paths instead of their mountPath. Services stay reachable from the host through the sandbox's service URLs.`
  );
}

/** Why isolation is impossible here, or the tools (and whether to go rootless) when it may work. */
async function probeHost(): Promise<{ reason: string } | { tools: Tools; rootless: boolean }> {
  if (process.platform !== 'linux') return { reason: `network namespaces need Linux, this is ${process.platform}` };
  const rootless = typeof process.getuid === 'function' && process.getuid() !== 0;
  if (rootless && process.env[USERNS_VARIABLE] === '0') return { reason: `not running as root, and ${USERNS_VARIABLE}=0 turned user namespaces off` };
  const tools: Partial<Tools> = {};
  for (const t of ['ip', 'unshare', 'nsenter', 'sh'] as const) {
    const p = findExecutable(t);
    if (!p) return { reason: `\`${t}\` not found` };
    tools[t] = p;
  }
  tools.chroot = findExecutable('chroot');
  // Rootless containers drop to our own uid in a user namespace of their own (container-setup.ts): util-linux 2.38+.
  if (rootless && !(await run(tools.unshare!, ['--help']).catch(() => '')).includes('--map-user=')) {
    return { reason: 'not running as root, and `unshare` has no --map-user (util-linux 2.38+)' };
  }
  return { tools: tools as Tools, rootless };
}

/** The node network when pods can be isolated, else why not. */
async function createNodeNetwork(opts: NetworkOptions, log: (m: string) => void): Promise<{ node: NodeNetwork; tools: Tools } | { reason: string }> {
  if (opts.isolation === 'none') return { reason: "isolation: 'none' was requested" };
  const probe = await probeHost();
  if ('reason' in probe) return probe;
  try {
    return { node: await NodeNetwork.create(probe.tools, log, { rootless: probe.rootless }), tools: probe.tools };
  } catch (err) {
    const what = probe.rootless ? 'not running as root, and cannot create user and network namespaces' : 'cannot create network namespaces';
    return { reason: `${what}: ${errorMessage(err).split('\n')[0]}` };
  }
}

export async function startNetwork(store: ObjectReader, opts: NetworkOptions = {}): Promise<Network> {
  const log = opts.log ?? (() => {});
  const hostIP = opts.hostIP ?? '127.0.0.1';
  const isolated = await createNodeNetwork(opts, log);
  const node = 'node' in isolated ? isolated.node : undefined;
  const proxy = new ServiceProxy(store, { node, log, ...(opts.apiServer ? { apiServer: opts.apiServer } : {}) });
  const services = { serviceUrls: () => proxy.urls(), settled: () => proxy.settled() };
  if ('node' in isolated) {
    const runtime = new IsolatedPodRuntime(store, isolated.node, isolated.tools, hostIP, log);
    return {
      mode: 'isolated',
      ...(isolated.node.rootless ? { rootless: true } : {}),
      podCIDR: isolated.node.cidr,
      runtime,
      dial: isolated.node.dial,
      ...services,
      async stop() {
        runtime.stop();
        await proxy.stop();
        await isolated.node.close();
      },
    };
  }
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const podAddresses = opts.shimDir ? await podAddressesFor(process.platform, hostIP, opts.shimDir, warn) : undefined;
  warn(fallbackNotice(isolated.reason, podAddresses !== undefined));
  return {
    mode: 'host',
    reason: isolated.reason,
    ...(podAddresses ? { podAddresses } : {}),
    dial: directDial,
    ...services,
    async stop() {
      await proxy.stop();
      podAddresses?.stop();
    },
  };
}

/** A pod of the isolated runtime, with the /etc/hosts its containers see. */
interface PodEntry {
  pod: KubeObject;
  podIP: string;
  hostsFile: string;
}

/**
 * The isolated mode's pod runtime: pod sandboxes in the node network namespace, each with its /etc/hosts,
 * /etc/resolv.conf and /etc/hostname, the hosts files rewritten whenever a Service's cluster IP comes, goes or changes.
 */
class IsolatedPodRuntime implements PodRuntime {
  readonly dial: Dialer;
  /** Pods on the pod network by uid (hostNetwork pods have no files of ours). */
  private readonly pods = new Map<string, PodEntry>();
  private scheduled = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectReader,
    private readonly node: NodeNetwork,
    private readonly tools: Tools,
    private readonly hostIP: string,
    private readonly log: (m: string) => void,
  ) {
    this.dial = node.dial;
    this.unsubscribe = store.subscribe((ev: ViewEvent) => {
      if (ev.key !== 'services' || this.scheduled) return;
      if (ev.type === 'MODIFIED' && ev.old?.spec?.clusterIP === ev.object.spec?.clusterIP && ev.old?.spec?.type === ev.object.spec?.type) return;
      this.scheduled = true;
      setImmediate(() => this.rewriteHosts());
    });
  }

  async createSandbox(pod: KubeObject, podDir: string): Promise<PodSandbox> {
    const hostNetwork = pod.spec?.hostNetwork === true;
    const hostname = hostNetwork ? os.hostname() : podHostname(pod);
    const etc = path.join(podDir, 'etc');
    fs.mkdirSync(etc, { recursive: true });
    const files = { hosts: path.join(etc, 'hosts'), resolvConf: path.join(etc, 'resolv.conf'), hostname: path.join(etc, 'hostname') };
    const nn = this.node;
    const sb = await IsolatedPodSandbox.create({
      tools: this.tools,
      node: hostNetwork ? undefined : nn,
      hostIP: this.hostIP,
      hostname,
      podDir,
      files: hostNetwork ? {} : files,
      log: this.log,
      ...(nn.rootless ? { rootless: { enter: nn.enter, user: { uid: process.getuid!(), gid: process.getgid!() } } } : {}),
    });
    if (hostNetwork) return sb;
    const key = pod.metadata.uid!;
    const entry: PodEntry = { pod, podIP: sb.podIP, hostsFile: files.hosts };
    fs.writeFileSync(files.hosts, hostsFileContent(pod, sb.podIP, serviceAddresses(this.store)));
    fs.writeFileSync(files.resolvConf, resolvConfContent(pod.metadata.namespace!));
    fs.writeFileSync(files.hostname, `${hostname}\n`);
    this.pods.set(key, entry);
    return {
      podIP: sb.podIP,
      containerArgv: (argv, mounts, cwd, user) => sb.containerArgv(argv, mounts, cwd, user),
      commandStarted: (pid) => sb.commandStarted(pid),
      execArgv: (pid, argv, cwd, user) => sb.execArgv(pid, argv, cwd, user),
      destroy: async () => {
        this.pods.delete(key);
        await sb.destroy();
      },
    };
  }

  serviceEnv(pod: KubeObject): Map<string, string> {
    return serviceEnv(this.store, pod);
  }

  stop(): void {
    this.unsubscribe();
  }

  private rewriteHosts(): void {
    this.scheduled = false;
    const services = serviceAddresses(this.store);
    for (const e of this.pods.values()) {
      try {
        // Same inode (truncate + write): the bind mounts in running containers see the new content.
        fs.writeFileSync(e.hostsFile, hostsFileContent(e.pod, e.podIP, services));
      } catch (err) {
        this.log(`network: hosts file of ${e.pod.metadata.namespace}/${e.pod.metadata.name}: ${(err as Error).message}`);
      }
    }
  }
}
