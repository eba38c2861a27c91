/**
 * The sandbox's API server: the Kubernetes REST protocol over HTTPS (JSON only), on top of a ClusterStore; every
 * request authenticated (auth.ts), then served by handlers/ (rest.ts dispatches).
 *
 * OpenAPI: `/openapi/v2` answers 404; `/openapi/v3` serves schema-less documents that tell kubectl to leave field
 * validation to the server (`fieldValidation=Strict`), which checks unknown fields itself — see openapi.ts. So
 * `kubectl apply -f` works without `--validate=false`; `kubectl explain` does not.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Dialer } from '../network/dial.js';
import { createCertificateAuthority, type CertificateAuthority } from '../pki.js';
import type { ClusterStore, PodLogSource } from '../types.js';
import { allowedHosts, authenticate, newToken, servingCertificate } from './auth.js';
import { FaultInjector, type FaultOptions } from './faults.js';
import { StatusError, badRequest, internalError } from '../machinery/errors.js';
import type { HandlerContext } from './handlers/context.js';
import { Discovery } from './handlers/discovery.js';
import { HttpError } from './handlers/request.js';
import { sendStatus } from './handlers/responses.js';
import { handle } from './handlers/rest.js';
import { WatchHub } from './watch.js';
import { errorMessage } from '../../engine/errors.js';

export type { FaultOptions } from './faults.js';

export interface ApiServerOptions {
  store: ClusterStore;
  /** An in-process log source (API server tests); unset, pods/log is proxied to the kubelet of the pod's Node. */
  logs?: PodLogSource;
  /**
   * The API server's kubelet client (upstream --kubelet-client-certificate/-key, --kubelet-certificate-authority):
   * pods/log connects to `https://<node InternalIP>:<daemonEndpoints.kubeletEndpoint.Port>/containerLogs/…` with it.
   */
  kubeletClient?: { cert: string; key: string; ca: string };
  /** How the services/pods proxy subresource reaches pod IPs (a rootless node's, network/dial.ts); unset: directly. */
  dial?: Dialer;
  /** 0 or unset: any free port. */
  port?: number;
  host?: string;
  /** The CA that signs the serving certificate and whose client certificates authenticate (default: a new one). */
  ca?: CertificateAuthority;
  /** The bearer token that authenticates (default: a new random one). */
  token?: string;
  faults?: FaultOptions;
  /** Watch history size (events kept for resuming watches; default 10000). */
  watchHistorySize?: number;
  /** Interval of BOOKMARK events on watches with allowWatchBookmarks (default 10000 ms). */
  bookmarkIntervalMs?: number;
}

export interface ApiServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** PEM of the CA that signed the serving certificate (a kubeconfig's certificate-authority-data). */
  caCert: string;
  /** The bearer token it accepts. */
  token: string;
  close(): Promise<void>;
  /** The watch hub (tests: `compact()` to force 410s). */
  watchHub: WatchHub;
  /** Decisions taken by the fault injector, in order (empty without faults). */
  faultLog: readonly string[];
  /** TLS connections accepted so far (tests: clients reuse connections). */
  readonly tlsConnections: number;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { store, logs } = opts;
  const hub = new WatchHub(store, { historySize: opts.watchHistorySize });
  const faults = opts.faults ? new FaultInjector(opts.faults) : undefined;
  // The injector for one request: none for client-certificate (node agent) requests when FaultOptions.certClients is false.
  const faultsFor = (req: IncomingMessage): FaultInjector | undefined =>
    faults && (faults.opts.certClients !== false || !(req.socket as TLSSocket).authorized) ? faults : undefined;
  const bookmarkMs = opts.bookmarkIntervalMs ?? 10_000;
  const openWatches = new Set<ServerResponse>();
  let reqCounter = 0;
  const discovery = new Discovery();

  const host = opts.host ?? '127.0.0.1';
  const auth = { ca: opts.ca ?? (await createCertificateAuthority('bodywork-sandbox-ca')), token: opts.token ?? newToken(), serviceAccountTokens: new Map<string, number>() };
  const serving = await servingCertificate(auth.ca, host);
  const ctx: HandlerContext = {
    store,
    hub,
    discovery,
    logs,
    kubeletClient: opts.kubeletClient,
    ...(opts.dial ? { dial: opts.dial } : {}),
    faultsFor,
    bookmarkMs,
    openWatches,
    serviceAccountTokens: auth.serviceAccountTokens,
  };
  let hosts = new Set<string>();
  // requestCert without rejectUnauthorized: a client certificate is optional (token clients send none), and one the
  // CA did not sign only leaves the socket unauthorized, so the request falls through to the token check.
  const server = https.createServer({ ...serving, ca: [auth.ca.cert], requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
    reqCounter++;
    (async () => {
      authenticate(req, auth, hosts);
      await handle(ctx, req, res);
    })().catch((e) => {
      if (e instanceof StatusError) sendStatus(res, e);
      else if (e instanceof HttpError) sendStatus(res, badRequest(e.message));
      else sendStatus(res, internalError(errorMessage(e)));
      req.resume();
    });
  });
  server.keepAliveTimeout = 30_000;
  let tlsConnections = 0;
  server.on('secureConnection', () => tlsConnections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  discovery.serverAddress = `${addr.address}:${addr.port}`;
  hosts = allowedHosts(host, addr.port);
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;

  // The `kubernetes` Service's endpoints point at this server (the apiserver reconciles them upstream).
  try {
    const ep = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets: [{ addresses: [{ ip: addr.address }], ports: [{ name: 'https', port: addr.port, protocol: 'TCP' }] }] };
    const cur = store.find('endpoints', 'default', 'kubernetes');
    if (cur) store.update('endpoints', 'default', 'kubernetes', { ...ep, metadata: { ...ep.metadata, resourceVersion: cur.metadata.resourceVersion } }, { fieldManager: 'kube-apiserver' });
    else store.create('endpoints', 'default', ep, { fieldManager: 'kube-apiserver' });
  } catch {
    // best effort
  }

  return {
    url,
    caCert: auth.ca.cert,
    token: auth.token,
    watchHub: hub,
    get faultLog() {
      return faults?.log ?? [];
    },
    get tlsConnections() {
      return tlsConnections;
    },
    close: async () => {
      for (const w of [...openWatches]) w.end();
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      void reqCounter;
    },
  };
}
