/**
 * The sandbox's kube-proxy, in the historical "userspace" mode (K pkg/proxy/userspace, removed in 1.26): one TCP
 * listener per Service port, and each accepted connection is spliced to a READY endpoint (the `addresses` of the
 * Service's Endpoints object, never `notReadyAddresses`), chosen round-robin; when an endpoint refuses, the next one
 * is tried. Endpoints are read from the node's API view (node/view.ts, a watch cache) at connection time, so a pod
 * that turns unready stops receiving new connections as soon as the endpoints controller has moved it. (Endpoints
 * rather than EndpointSlices: both control planes serve and maintain them; the embedded one has no EndpointSlices.)
 *
 * Listeners: inside the node network namespace on `clusterIP:port` (isolated mode; pods route there through their
 * gateway), and on the host at `127.0.0.1:<ephemeral>` for every Service port in every mode — the URLs
 * `Sandbox.serviceUrls()` reports. The forwarding itself runs in this process, on the host network, which reaches
 * pod IPs through the host route (rootless: through the node namespace, NodeNetwork.dial) and the API server's own
 * endpoint (the `kubernetes` Service) on 127.0.0.1.
 * UDP/SCTP ports are not proxied.
 */
import net from 'node:net';
import type { ObjectReader, ViewEvent } from '../node/view.js';
import type { KubeObject } from '../types.js';
import { directDial, type Dialer } from './dial.js';
import type { NodeNetwork } from './linux.js';

export interface ServiceUrl {
  namespace: string;
  name: string;
  port: number;
  portName?: string;
  clusterIP: string;
  /** `http://127.0.0.1:<port>` — a host listener that forwards like the cluster IP does. */
  url: string;
}

/** Ready `ip:port` backends of a Service port, from its Endpoints object (stable order). */
export function readyBackends(ep: KubeObject | undefined, portName: string): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  for (const subset of ep?.subsets ?? []) {
    const p = (subset.ports ?? []).find((x: any) => (x.name ?? '') === portName && (x.protocol ?? 'TCP') === 'TCP');
    if (!p) continue;
    for (const a of subset.addresses ?? []) out.push({ host: a.ip, port: p.port });
  }
  return out.sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port);
}

export interface ServiceProxyOptions {
  /** Isolated mode: the node namespace, where the cluster-IP listeners go and through which pods are dialled. */
  node?: NodeNetwork;
  log: (m: string) => void;
  /**
   * Where the `kubernetes` Service leads when it has no endpoints. A control plane advertising a loopback address (the
   * upstream one in tests) gets none (Endpoints may not hold loopback addresses), yet pods' in-cluster clients (the
   * in-cluster runner) must reach it: this node forwards them to the API server it talks to itself.
   */
  apiServer?: { host: string; port: number };
}

/** One TCP port of one Service, as the proxy serves it. */
interface ServicePort {
  namespace: string;
  name: string;
  port: number;
  portName: string;
  clusterIP: string;
}

/** The listeners of one Service port and where its next connection starts the round-robin. */
class PortListeners {
  host?: net.Server;
  hostPort?: number;
  inner?: net.Server;
  closed = false;
  /** Round-robin position: the backend index the next connection tries first (modulo the ready backends). */
  next = 0;

  constructor(readonly service: ServicePort) {}

  close(): void {
    this.closed = true;
    this.host?.close();
    this.inner?.close();
  }
}

/** The Service ports the proxy should serve now, by a key that changes whenever a listener must be replaced. */
function wantedPorts(store: ObjectReader): Map<string, ServicePort> {
  const want = new Map<string, ServicePort>();
  for (const s of store.list('services', undefined).items) {
    const ip = s.spec?.clusterIP;
    if (!ip || ip === 'None' || s.spec?.type === 'ExternalName') continue;
    for (const p of s.spec?.ports ?? []) {
      if ((p.protocol ?? 'TCP') !== 'TCP') continue;
      const key = `${s.metadata.namespace}/${s.metadata.name}/${ip}/${p.port}/${p.name ?? ''}`;
      want.set(key, { namespace: s.metadata.namespace!, name: s.metadata.name!, port: p.port, portName: p.name ?? '', clusterIP: ip });
    }
  }
  return want;
}

/**
 * The proxy: listeners per Service port, reconciled with the Services of the node's view whenever one changes, and the
 * sockets of the connections it forwards (destroyed at stop).
 */
export class ServiceProxy {
  private readonly dial: Dialer;
  private readonly listeners = new Map<string, PortListeners>();
  private readonly sockets = new Set<net.Socket>();
  /** Every listener opening started so far (settled() waits for them). */
  private opening: Promise<void> = Promise.resolve();
  private scheduled = false;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectReader,
    private readonly opts: ServiceProxyOptions,
  ) {
    this.dial = opts.node?.dial ?? directDial;
    this.unsubscribe = store.subscribe((ev: ViewEvent) => {
      if (ev.key === 'services') this.schedule();
    });
    this.reconcile();
  }

  /** A host URL for every Service port whose host listener is up. */
  urls(): ServiceUrl[] {
    const out: ServiceUrl[] = [];
    for (const { service: s, hostPort } of this.listeners.values()) {
      if (!hostPort) continue;
      const u: ServiceUrl = { namespace: s.namespace, name: s.name, port: s.port, clusterIP: s.clusterIP, url: `http://127.0.0.1:${hostPort}` };
      if (s.portName) u.portName = s.portName;
      out.push(u);
    }
    // Stable: a Service's ports stay in spec order.
    return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  }

  /** Resolves once every listener for the current Services is up (tests, startup). */
  async settled(): Promise<void> {
    if (this.scheduled) await new Promise((r) => setImmediate(r));
    let p: Promise<void>;
    do {
      p = this.opening;
      await p;
    } while (p !== this.opening);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    await this.opening.catch(() => undefined);
    for (const l of this.listeners.values()) l.close();
    this.listeners.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** One reconciliation for any number of Service changes in a turn. */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.reconcile());
  }

  /** Closes the listeners of Service ports that are gone or changed, and opens those of new ones. */
  private reconcile(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const want = wantedPorts(this.store);
    for (const [key, l] of this.listeners) {
      if (want.has(key)) continue;
      this.listeners.delete(key);
      l.close();
    }
    const opening: Promise<void>[] = [];
    for (const [key, service] of want) {
      if (this.listeners.has(key)) continue;
      const l = new PortListeners(service);
      this.listeners.set(key, l);
      opening.push(this.open(l).catch((err) => this.opts.log(`service proxy: ${service.namespace}/${service.name}:${service.port}: ${(err as Error).message}`)));
    }
    this.opening = Promise.all([this.opening, ...opening]).then(() => undefined);
  }

  private async open(l: PortListeners): Promise<void> {
    const { service: s } = l;
    const host = net.createServer((c) => this.forward(l, c));
    await new Promise<void>((resolve, reject) => {
      host.once('error', reject);
      host.listen(0, '127.0.0.1', () => resolve());
    });
    l.host = host;
    l.hostPort = (host.address() as net.AddressInfo).port;
    if (this.opts.node) {
      try {
        const inner = await this.opts.node.listen(s.clusterIP, s.port);
        inner.on('connection', (c) => this.forward(l, c));
        l.inner = inner;
      } catch (err) {
        this.opts.log(`service proxy: cannot listen on ${s.clusterIP}:${s.port} for ${s.namespace}/${s.name}: ${(err as Error).message}`);
      }
    }
    // Removed while it was opening.
    if (l.closed) l.close();
  }

  /** The ready backends of a Service port now (the API server itself for an endpointless `kubernetes` Service). */
  private backendsOf(s: ServicePort): { host: string; port: number }[] {
    const backends = readyBackends(this.store.find('endpoints', s.namespace, s.name), s.portName);
    if (!backends.length && this.opts.apiServer && s.namespace === 'default' && s.name === 'kubernetes') return [this.opts.apiServer];
    return backends;
  }

  /** Splices an accepted connection to a ready backend: round-robin, the next one when one refuses. */
  private forward(l: PortListeners, client: net.Socket): void {
    this.track(client);
    client.on('error', () => client.destroy());
    client.pause();
    const backends = this.backendsOf(l.service);
    if (!backends.length) {
      client.destroy();
      return;
    }
    const first = l.next++ % backends.length;
    const attempt = (k: number): void => {
      if (k >= backends.length || client.destroyed) {
        client.destroy();
        return;
      }
      const b = backends[(first + k) % backends.length];
      this.dial(b.host, b.port, 5000).then((up) => this.splice(client, up), () => attempt(k + 1));
    };
    attempt(0);
  }

  private splice(client: net.Socket, up: net.Socket): void {
    if (client.destroyed || this.stopped) {
      up.destroy();
      return;
    }
    this.track(up);
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    client.pipe(up);
    up.pipe(client);
    client.resume();
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
