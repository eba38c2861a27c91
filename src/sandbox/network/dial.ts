/**
 * Connecting to pods from the host side. As root the host routes to pod IPs; rootless nothing does, and the node
 * network's helper connects from inside the node namespace instead (NodeNetwork.dial in linux.ts). Whatever
 * connects to a pod IP (the Service proxy, the kubelet's probes, the API server's proxy subresource) takes a Dialer.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

/** Opens a TCP connection; resolves once connected (errors keep their `code`: ECONNREFUSED, ETIMEDOUT). */
export type Dialer = (host: string, port: number, timeoutMs?: number) => Promise<net.Socket>;

/** A connection from this process's own network. */
export const directDial: Dialer = (host, port, timeoutMs = 5000) =>
  new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.setTimeout(timeoutMs, () => s.destroy(Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), { code: 'ETIMEDOUT' })));
    s.once('error', reject);
    s.once('connect', () => {
      s.setTimeout(0);
      s.removeListener('error', reject);
      resolve(s);
    });
  });

/**
 * An http(s).request `createConnection` over `dial` (with it, and no `agent`, the request uses this socket). HTTPS
 * is not verified: its users (probes, the proxy subresource) do not verify pods' certificates either.
 */
export function connectVia(dial: Dialer, host: string, port: number, o: { secure?: boolean; timeoutMs?: number } = {}) {
  return (_options: unknown, done: (err: Error | null, socket: Duplex) => void): undefined => {
    dial(host, port, o.timeoutMs).then(
      (s) => done(null, o.secure ? tls.connect({ socket: s, rejectUnauthorized: false, ...(net.isIP(host) ? {} : { servername: host }) }) : s),
      (err: Error) => done(err, undefined as unknown as Duplex),
    );
    return undefined;
  };
}
