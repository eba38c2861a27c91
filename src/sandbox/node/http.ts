/**
 * The node's HTTP door to an API server, given only a kubeconfig: JSON requests through client-node's kubeconfig
 * handling (`applyToHTTPSOptions`: CA, client certificate, bearer token, exec plugins), and the engine's KubeClient
 * for watches (engine/kube/watch.ts).
 *
 * Why not client-node's typed APIs for writes: they turn objects into typed models, dropping fields the model does
 * not know (a newer server's) and turning times into Dates, and they serialize bodies the same way; the kubelet needs
 * objects exactly as the server sent them, and patches exactly as it wrote them.
 */
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../engine/kube/client.js';
import { requestFailure, resendIfStale } from '../../engine/kube/connections.js';

export type KubeconfigInput = string | KubeConfig | object;

/** A failed request: `code` is the HTTP status (0: no response), `reason` the Status reason. */
export class NodeApiError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly reason?: string,
  ) {
    super(message);
  }
}

export function loadKubeconfig(input: KubeconfigInput): KubeConfig {
  if (input instanceof KubeConfig) return input;
  const kc = new KubeConfig();
  if (typeof input === 'string') kc.loadFromString(input);
  else kc.loadFromString(JSON.stringify(input));
  return kc;
}

export class NodeHttp {
  readonly kc: KubeConfig;
  readonly server: string;
  /** For watches (engine/kube/watch.ts watchObjects). */
  readonly client: KubeClient;

  constructor(kubeconfig: KubeconfigInput) {
    this.kc = loadKubeconfig(kubeconfig);
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the node kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.client = KubeClient.create(this.kc, undefined, { userAgent: 'kubelet/bodywork-sandbox' });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.client.connections.close();
  }

  /** Sends one request; resolves with the parsed JSON body (undefined when empty); non-2xx rejects with NodeApiError. */
  async request<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const url = new URL(this.server + path);
    // Kept-alive connections, as the kubelet's client-go transport keeps its one connection (engine/kube/connections.ts).
    const opts = await this.client.connections.httpsOptions();
    opts.method = method;
    Object.assign(opts.headers!, { Accept: 'application/json', 'User-Agent': 'kubelet/bodywork-sandbox' });
    const data = body === undefined ? undefined : JSON.stringify(body);
    if (data !== undefined) Object.assign(opts.headers!, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) });
    const what = `${method} ${path}`;
    return resendIfStale(() => this.send<T>(url, opts, data, what));
  }

  private send<T>(url: URL, opts: https.RequestOptions, data: string | undefined, what: string): Promise<T> {
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new NodeApiError(e.message, 0)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve(parsed as T);
          else reject(new NodeApiError(`${what}: ${code} ${parsed?.message ?? text.slice(0, 200)}`, code, parsed?.reason));
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => reject(requestFailure(req, e, (x) => new NodeApiError(`${what}: ${x.message}`, 0))));
      req.end(data);
    });
  }
}

/** `/api/v1/namespaces/ns/pods` style collection path of a core or grouped resource. */
export function collectionPath(group: string, version: string, resource: string, namespace?: string): string {
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${resource}` : `${base}/${resource}`;
}
