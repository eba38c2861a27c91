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
import { directDial } from './dial.js';
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

interface Entry {
  key: string;
  namespace: string;
  name: string;
  port: number;
  portName: string;
  clusterIP: string;
  rr: number;
  host?: net.Server;
  inner?: net.Server;
  hostPort?: number;
  closed: boolean;
}

export interface ServiceProxy {
  urls(): ServiceUrl[];
  /** Resolves once every listener for the current Services is up (tests, startup). */
  settled(): Promise<void>;
  stop(): Promise<void>;
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

/**
 * `apiServer`: where the `kubernetes` Service leads when it has no endpoints. A control plane advertising a loopback
 * address (the upstream one in tests) gets none (Endpoints may not hold loopback addresses), yet pods' in-cluster
 * clients (the in-cluster runner) must reach it: this node forwards them to the API server it talks to itself.
 */
export function startServiceProxy(
  store: ObjectReader,
  opts: { node?: NodeNetwork; log: (m: string) => void; apiServer?: { host: string; port: number } },
): ServiceProxy {
  const dial = opts.node?.dial ?? directDial;
  const entries = new Map<string, Entry>();
  const sockets = new Set<net.Socket>();
  let pending: Promise<void> = Promise.resolve();
  let scheduled = false;
  let stopped = false;

  function handle(e: Entry, client: net.Socket): void {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    let backends = readyBackends(store.find('endpoints', e.namespace, e.name), e.portName);
    if (!backends.length && opts.apiServer && e.namespace === 'default' && e.name === 'kubernetes') backends = [opts.apiServer];
    if (!backends.length) {
      client.destroy();
      return;
    }
    const first = e.rr++ % backends.length;
    const attempt = (k: number): void => {
      if (k >= backends.length || client.destroyed) {
        client.destroy();
        return;
      }
      const b = backends[(first + k) % backends.length];
      dial(b.host, b.port, 5000).then((up) => {
        if (client.destroyed || stopped) {
          up.destroy();
          return;
        }
        sockets.add(up);
        up.on('close', () => sockets.delete(up));
        up.on('error', () => client.destroy());
        client.on('close', () => up.destroy());
        up.on('close', () => client.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
      }, () => attempt(k + 1));
    };
    attempt(0);
  }

  async function open(e: Entry): Promise<void> {
    const host = net.createServer((s) => handle(e, s));
    await new Promise<void>((resolve, reject) => {
      host.once('error', reject);
      host.listen(0, '127.0.0.1', () => resolve());
    });
    e.host = host;
    e.hostPort = (host.address() as net.AddressInfo).port;
    if (opts.node) {
      try {
        const inner = await opts.node.listen(e.clusterIP, e.port);
        inner.on('connection', (s) => handle(e, s));
        e.inner = inner;
      } catch (err) {
        opts.log(`service proxy: cannot listen on ${e.clusterIP}:${e.port} for ${e.namespace}/${e.name}: ${(err as Error).message}`);
      }
    }
    if (e.closed) close(e);
  }

  function close(e: Entry): void {
    e.closed = true;
    e.host?.close();
    e.inner?.close();
  }

  function sync(): void {
    scheduled = false;
    if (stopped) return;
    const want = new Map<string, Entry>();
    for (const s of store.list('services', undefined).items) {
      const ip = s.spec?.clusterIP;
      if (!ip || ip === 'None' || s.spec?.type === 'ExternalName') continue;
      for (const p of s.spec?.ports ?? []) {
        if ((p.protocol ?? 'TCP') !== 'TCP') continue;
        const key = `${s.metadata.namespace}/${s.metadata.name}/${ip}/${p.port}/${p.name ?? ''}`;
        want.set(key, { key, namespace: s.metadata.namespace!, name: s.metadata.name!, port: p.port, portName: p.name ?? '', clusterIP: ip, rr: 0, closed: false });
      }
    }
    const opening: Promise<void>[] = [];
    for (const [k, e] of entries)
      if (!want.has(k)) {
        entries.delete(k);
        close(e);
      }
    for (const [k, e] of want)
      if (!entries.has(k)) {
        entries.set(k, e);
        opening.push(open(e).catch((err) => opts.log(`service proxy: ${e.namespace}/${e.name}:${e.port}: ${(err as Error).message}`)));
      }
    pending = Promise.all([pending, ...opening]).then(() => undefined);
  }

  const schedule = (): void => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(sync);
  };
  const unsubscribe = store.subscribe((ev: ViewEvent) => {
    if (ev.key === 'services') schedule();
  });
  sync();

  return {
    urls() {
      const out: ServiceUrl[] = [];
      for (const e of entries.values()) {
        if (!e.hostPort) continue;
        const u: ServiceUrl = { namespace: e.namespace, name: e.name, port: e.port, clusterIP: e.clusterIP, url: `http://127.0.0.1:${e.hostPort}` };
        if (e.portName) u.portName = e.portName;
        out.push(u);
      }
      // Stable: a Service's ports stay in spec order.
      return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    },
    async settled() {
      if (scheduled) await new Promise((r) => setImmediate(r));
      let p: Promise<void>;
      do {
        p = pending;
        await p;
      } while (p !== pending);
    },
    async stop() {
      stopped = true;
      unsubscribe();
      await pending.catch(() => undefined);
      for (const e of entries.values()) close(e);
      entries.clear();
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}
