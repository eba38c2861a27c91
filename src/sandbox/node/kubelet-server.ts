/**
 * The kubelet API over HTTPS, the part the API server uses for `kubectl logs`: GET
 * /containerLogs/{namespace}/{pod}/{container}?follow&tailLines&previous&timestamps&sinceSeconds&sinceTime&limitBytes
 * (K pkg/kubelet/server/server.go getContainerLogs), answered from the kubelet's PodLogSource.
 *
 * Callers authenticate with a client certificate signed by `clientCA` (upstream --client-ca-file; the API server's
 * --kubelet-client-certificate): none or an untrusted one is 401. Authorization: upstream asks the API server with a
 * SubjectAccessReview; here the certificate's CommonName must be in `allowedUsers` when given (403 otherwise).
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { StatusError } from '../machinery/errors.js';
import { logOptionsFromQuery, streamLog } from '../machinery/pod-log.js';
import type { PodLogSource } from '../types.js';

export interface KubeletServerOptions {
  logs: PodLogSource;
  /** Serving certificate and key (PEM); the certificate should name the node's IP. */
  cert: string;
  key: string;
  /** CA (PEM) that signs the API server's kubelet client certificate. */
  clientCA: string;
  /** CommonNames allowed (default: any certificate the CA signed). */
  allowedUsers?: string[];
  host?: string;
  port?: number;
}

export interface KubeletServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

function status(res: import('node:http').ServerResponse, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startKubeletServer(o: KubeletServerOptions): Promise<KubeletServer> {
  const server = https.createServer({ cert: o.cert, key: o.key, ca: o.clientCA, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const sock = req.socket as TLSSocket;
    if (!sock.authorized) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const cn = sock.getPeerCertificate()?.subject?.CN;
    const user = Array.isArray(cn) ? cn[0] : cn;
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
    if (o.allowedUsers && !o.allowedUsers.includes(user ?? '')) {
      return status(res, 403, 'Forbidden', `Forbidden (user=${user ?? ''}, verb=get, resource=nodes, subresource=proxy)`);
    }
    if (!m) return status(res, 404, 'NotFound', `404 page not found: ${url.pathname}`);
    if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', `${req.method} is not allowed`);
    const [ns, pod, container] = m.slice(1).map(decodeURIComponent);
    let stream;
    try {
      stream = o.logs.open(ns, pod, logOptionsFromQuery(url.searchParams, container));
    } catch (err) {
      if (err instanceof StatusError) return status(res, err.code, err.reason, err.message);
      return status(res, 500, 'InternalError', (err as Error).message);
    }
    streamLog(res, stream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://${o.host ?? '127.0.0.1'}:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
