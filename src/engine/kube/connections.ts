/**
 * One connection pool per TLS set-up, shared by a client's requests and watches.
 *
 * client-node 2.0.1's `KubeConfig.applySecurityAuthentication` gives every request a new undici `Agent`, so every
 * request opened its own TCP and TLS connection and then left it idle (20 GETs in a row: 21 handshakes, each a key
 * exchange on both ends). client-go keeps one transport per TLS configuration; this does the same. client-node still
 * decides everything about the request: its headers (tokens, exec plugins, basic auth) and its dispatcher's kind and
 * options (TLS material, proxy, SOCKS). Only the `Agent` it made is swapped for the one made before for the same
 * options, whose idle connections are then reused.
 *
 * Log follows go through node:https (log-stream.ts says why). client-node's `applyToHTTPSOptions` gives them an
 * https.Agent that does not keep connections alive, so each follow paid a new TLS context (parsing the CA) and a
 * handshake on both ends, about 3 ms of the deploy's CPU per follow and as much of the API server's. `httpsOptions`
 * swaps it for a kept-alive Agent per TLS set-up, with its TLS context made once; the sandbox's kubelet sends its
 * requests through it too. `resendIfStale` is what every request on such a connection needs.
 */
import { createHash, type Hash } from 'node:crypto';
import http, { type ClientRequest } from 'node:http';
import https, { type RequestOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** Pools kept at once: a new one is made when the TLS material changes (an exec plugin's certificate rotates). */
const MAX_POOLS = 4;

export class ConnectionPools {
  private readonly pools = new Map<string, Dispatcher>();
  private readonly agents = new Map<string, https.Agent>();

  constructor(private readonly kc: KubeConfig) {}

  /** `KubeConfig.applySecurityAuthentication`, with the request's dispatcher taken from the pool for its options. */
  async applySecurityAuthentication(ctx: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(ctx);
    const made = ctx.getDispatcher();
    if (made === undefined) return;
    const key = await this.optionsKey();
    const pooled = this.pools.get(key);
    if (pooled !== undefined) {
      ctx.setDispatcher(pooled);
      // Never connected: closing it only drops the object.
      void made.close().catch(() => {});
      return;
    }
    this.pools.set(key, made);
    for (const [oldKey, old] of this.pools) {
      if (this.pools.size <= MAX_POOLS) break;
      this.pools.delete(oldKey);
      // Lets requests in flight on it finish; nothing new goes to it.
      void old.close().catch(() => {});
    }
  }

  /**
   * `KubeConfig.applyToHTTPSOptions` (headers, TLS, the proxy's agent), with a plain https.Agent swapped for the
   * kept-alive one of the same TLS options. For an http:// server its plain http.Agent is dropped, so Node's global
   * agent (kept alive) carries the request. A proxy's agent (proxy-url) is left as client-node made it.
   */
  async httpsOptions(): Promise<RequestOptions> {
    const opts: RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    if (opts.agent?.constructor === http.Agent) delete opts.agent;
    if (opts.agent?.constructor !== https.Agent) return opts;
    const tls = { ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase };
    const verify = { ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}), ...(opts.servername !== undefined ? { servername: opts.servername } : {}) };
    const hash = createHash('sha256');
    digest(hash, { tls, verify });
    const key = hash.digest('hex');
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = new https.Agent({ keepAlive: true, secureContext: createSecureContext(tls), ...verify });
      this.agents.set(key, agent);
      // Dropped, not destroyed: streams in flight on it go on, and its idle connections keep no process alive.
      for (const oldKey of this.agents.keys()) {
        if (this.agents.size <= MAX_POOLS) break;
        this.agents.delete(oldKey);
      }
    }
    opts.agent = agent;
    return opts;
  }

  /** Closes the kept-alive connections of `httpsOptions` (the requests through client-node close their own). */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** The kubeconfig with this pooling, for client-node's `Watch` (which authenticates through the config it is given). */
  pooledConfig(): KubeConfig {
    return Object.create(this.kc, { applySecurityAuthentication: { value: (ctx: RequestContext) => this.applySecurityAuthentication(ctx) } }) as KubeConfig;
  }

  /**
   * What client-node builds the dispatcher from (`createDispatcherOptions` over the TLS options), as a digest. This
   * asks the kubeconfig for its options a second time per request (client-node already did, for the headers): the
   * price of leaving the choice of dispatcher (proxy, SOCKS, TLS) to client-node rather than writing it again here.
   */
  private async optionsKey(): Promise<string> {
    const tls: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(tls);
    const options = this.kc.createDispatcherOptions(this.kc.getCurrentCluster(), {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      pfx: tls.pfx,
      passphrase: tls.passphrase,
      ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
      ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
    });
    const hash = createHash('sha256');
    digest(hash, options);
    return hash.digest('hex');
  }
}

/** Feeds `value` to `hash`: Buffers and strings as they are, objects key by key (sorted), arrays item by item. */
function digest(hash: Hash, value: unknown): void {
  if (Buffer.isBuffer(value) || typeof value === 'string') hash.update(`${typeof value}:${value.length}:`).update(value);
  else if (Array.isArray(value)) for (const item of ['[', ...value, ']']) digest(hash, item);
  else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value).sort()) {
      hash.update(`${key}=`);
      digest(hash, (value as Record<string, unknown>)[key]);
    }
  } else hash.update(`${String(value)};`);
}

/**
 * A request that failed on a kept-alive connection the server had closed, idle on its side, just as the request went
 * out on it (`reusedSocket` and ECONNRESET): the server never handled it.
 */
export class StaleConnection extends Error {}

/** What a node:http(s) request's 'error' rejects with: a StaleConnection when it is that case, else `other(e)`. */
export function requestFailure(req: ClientRequest, e: NodeJS.ErrnoException, other: (e: NodeJS.ErrnoException) => Error = (x) => x): Error {
  return req.reusedSocket && e.code === 'ECONNRESET' ? new StaleConnection(e.message) : other(e);
}

/** Runs `send`, and once more, on a new connection, when it met a StaleConnection: what Node's documentation advises. */
export async function resendIfStale<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    if (!(e instanceof StaleConnection)) throw e;
    return send();
  }
}
