/**
 * The API server's transport and authentication: HTTPS with a serving certificate from the sandbox CA, and every
 * request authenticated — by the sandbox's bearer token, or by a client certificate the same CA signed (the node
 * agent) — as kube-apiserver does with `--anonymous-auth=false`: anything else is 401 with the upstream Status body.
 * There is no authorization: an authenticated client is cluster admin (the token is as good as the kubeconfig).
 *
 * Host check (a DNS-rebinding defence): a page on another origin whose name resolves to 127.0.0.1 makes the browser
 * send that name as Host. Only 127.0.0.1, localhost and [::1] with this server's port, and the in-cluster names of
 * the `kubernetes` Service (which no outside page can make resolve here) on 443, are answered; others get 403
 * Forbidden — the request is well formed (400 would say it is malformed), it is refused by policy.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { issueCertificate, type CertificateAuthority, type PemPair } from '../pki.js';
import { StatusError } from '../machinery/errors.js';
import { KUBERNETES_SERVICE_IP } from './registry.js';

/** What the server needs to serve TLS and check credentials. */
export interface ServerAuth {
  ca: CertificateAuthority;
  token: string;
  /**
   * ServiceAccount tokens the TokenRequest API issued (token -> expiry in ms): pods authenticate with them, as
   * in-cluster clients do upstream. Like the main token they carry no authorization limits (there is no RBAC here).
   */
  serviceAccountTokens?: Map<string, number>;
}

/** A fresh bearer token: 32 random bytes, base64url (kubeconfig- and header-safe). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];

/**
 * How pods reach the API server: the `kubernetes` Service (registry.ts) by name or cluster IP, on its port 443. In
 * the certificate as upstream's (kube-apiserver's default serving cert SANs), and accepted as Host on that port.
 */
const IN_CLUSTER_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', KUBERNETES_SERVICE_IP];

/** The serving certificate: every loopback name a client may dial, `host` when it is another address, the in-cluster names. */
export function servingCertificate(ca: CertificateAuthority, host: string): Promise<PemPair> {
  const names = [...(LOOPBACK_NAMES.includes(host) ? LOOPBACK_NAMES : [...LOOPBACK_NAMES, host]), ...IN_CLUSTER_NAMES];
  return issueCertificate(ca, {
    commonName: 'bodywork-sandbox-apiserver',
    dnsNames: names.filter((n) => !isIP(n)),
    ipAddresses: names.filter((n) => isIP(n)),
    usage: 'server',
  });
}

const unauthorized = () => new StatusError(401, 'Unauthorized', 'Unauthorized');

/** The Host values this server answers to. */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = LOOPBACK_NAMES.includes(host) ? LOOPBACK_NAMES : [...LOOPBACK_NAMES, host];
  const hostPort = (n: string, p: number) => (n.includes(':') ? `[${n}]:${p}` : `${n}:${p}`);
  // Through the Service, port 443 (default for https: a Host without a port means 443 too).
  return new Set([...names.map((n) => hostPort(n, port)), ...IN_CLUSTER_NAMES.flatMap((n) => [hostPort(n, 443), n])]);
}

/** Checks one request, its Host then its credentials; throws the StatusError to answer with. */
export function authenticate(req: IncomingMessage, auth: ServerAuth, hosts: Set<string>): void {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!hosts.has(host)) throw new StatusError(403, 'Forbidden', 'forbidden: the Host header names no address of this server');
  const socket = req.socket as TLSSocket;
  // requestCert with rejectUnauthorized false: the handshake verified any certificate against the CA and says so here.
  if (socket.authorized) return;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m && tokenMatches(m[1], auth.token)) return;
  const expiry = m ? auth.serviceAccountTokens?.get(m[1]) : undefined;
  if (expiry !== undefined && expiry > Date.now()) return;
  throw unauthorized();
}

/** Constant-time comparison; hashing first makes the lengths equal, so the length of the token leaks nothing. */
function tokenMatches(given: string, want: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(given), h(want));
}
