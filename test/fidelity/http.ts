/**
 * Raw HTTPS access to an API server for the fidelity check: status codes, Status bodies and watch events exactly as
 * the server sent them. The engine's KubeClient hides these (it maps errors, retries, decodes models), so the check
 * talks HTTP itself, with the kubeconfig's own TLS material and credentials applied by client-node.
 */
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export interface RawResponse {
  status: number;
  body: any;
}

export interface WatchStream {
  /** Events in arrival order (`{type, object}`), appended as they come. */
  events: { type: string; object: any }[];
  /** Resolves when `pred` holds for the events so far (checked on each new event), or rejects after `timeoutMs`. */
  until(pred: (events: WatchStream['events']) => boolean, timeoutMs?: number): Promise<void>;
  /** The HTTP status of the watch response. */
  status: Promise<number>;
  /** Resolves when the server closes the stream. */
  closed: Promise<void>;
  close(): void;
}

export class RawApi {
  readonly server: URL;
  private constructor(
    private readonly kc: KubeConfig,
    server: string,
  ) {
    this.server = new URL(server);
  }

  static fromKubeconfig(content: string): RawApi {
    const kc = new KubeConfig();
    kc.loadFromString(content);
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error('kubeconfig has no current cluster');
    return new RawApi(kc, server);
  }

  private async options(method: string, path: string, headers: Record<string, string>): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = {
      method,
      hostname: this.server.hostname.replace(/^\[|\]$/g, ''),
      port: this.server.port,
      path,
      headers: { accept: 'application/json', ...headers },
    };
    await this.kc.applyToHTTPSOptions(opts);
    return opts;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
    const h = { ...headers };
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) {
      h['content-type'] ??= 'application/json';
      // Node sends DELETE bodies neither chunked nor with a length unless told: the server would read them as the next request.
      h['content-length'] = String(Buffer.byteLength(payload));
    }
    const opts = await this.options(method, path, h);
    return new Promise((resolve, reject) => {
      const req = https.request(opts, (rsp) => {
        const chunks: Buffer[] = [];
        rsp.on('data', (c: Buffer) => chunks.push(c));
        rsp.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* text, e.g. a log */
          }
          resolve({ status: rsp.statusCode ?? 0, body: parsed });
        });
        rsp.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  get = (path: string) => this.request('GET', path);
  post = (path: string, body: unknown) => this.request('POST', path, body);
  put = (path: string, body: unknown) => this.request('PUT', path, body);
  del = (path: string, body?: unknown) => this.request('DELETE', path, body);
  apply = (path: string, body: unknown, manager: string, force = false) =>
    this.request('PATCH', `${path}?fieldManager=${manager}${force ? '&force=true' : ''}`, body, { 'content-type': 'application/apply-patch+yaml' });
  mergePatch = (path: string, body: unknown) => this.request('PATCH', path, body, { 'content-type': 'application/merge-patch+json' });

  /** Opens a watch (`path` with its query, `watch=true` included by the caller). */
  async watch(path: string): Promise<WatchStream> {
    const opts = await this.options('GET', path, {});
    const events: WatchStream['events'] = [];
    const waiters = new Set<() => void>();
    let resolveStatus!: (s: number) => void;
    let resolveClosed!: () => void;
    const status = new Promise<number>((r) => (resolveStatus = r));
    const closed = new Promise<void>((r) => (resolveClosed = r));
    const req = https.request(opts, (rsp) => {
      resolveStatus(rsp.statusCode ?? 0);
      let buf = '';
      rsp.setEncoding('utf8');
      rsp.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            events.push(JSON.parse(line));
          } catch {
            events.push({ type: 'UNPARSEABLE', object: line });
          }
          for (const w of [...waiters]) w();
        }
      });
      rsp.on('end', () => resolveClosed());
      rsp.on('error', () => resolveClosed());
    });
    req.on('error', () => {
      resolveStatus(0);
      resolveClosed();
    });
    req.end();
    return {
      events,
      status,
      closed,
      close: () => req.destroy(),
      until: (pred, timeoutMs = 30_000) =>
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (!pred(events)) return;
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(new Error(`watch ${path}: condition not met in ${timeoutMs} ms; events: ${events.map((e) => e.type).join(',')}`));
          }, timeoutMs);
          waiters.add(check);
          check();
        }),
    };
  }

  /** Watches `path` (a collection) until `pred` holds for an object named `name`; answers that object. */
  async waitFor(collection: string, name: string, pred: (o: any) => boolean, timeoutMs = 60_000): Promise<any> {
    const list = await this.get(`${collection}?fieldSelector=metadata.name=${name}`);
    const now = list.body?.items?.[0];
    if (now && pred(now)) return now;
    const w = await this.watch(`${collection}?watch=true&fieldSelector=metadata.name=${name}&resourceVersion=${list.body?.metadata?.resourceVersion ?? ''}`);
    try {
      let found: any;
      await w.until((evs) => {
        const e = evs.at(-1);
        if (e && e.type !== 'DELETED' && e.type !== 'ERROR' && pred(e.object)) found = e.object;
        return found !== undefined;
      }, timeoutMs);
      return found;
    } finally {
      w.close();
    }
  }

  /** Resolves once `path` answers 404 (watching its collection for the DELETED event). */
  async waitGone(collection: string, name: string, timeoutMs = 60_000): Promise<void> {
    const list = await this.get(`${collection}?fieldSelector=metadata.name=${name}`);
    if (!list.body?.items?.length) return;
    const w = await this.watch(`${collection}?watch=true&fieldSelector=metadata.name=${name}&resourceVersion=${list.body.metadata.resourceVersion}`);
    try {
      await w.until((evs) => evs.some((e) => e.type === 'DELETED'), timeoutMs);
    } finally {
      w.close();
    }
  }
}
