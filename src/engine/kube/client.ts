/**
 * The deploy engine's only door to the cluster: client-node's `KubernetesObjectApi` (and its transport for paths it
 * has no verb for: lists by path, logs), with retries (retry.ts), error translation (errors.ts), abort signals and a
 * count of API requests per verb applied to every call.
 *
 * client-node's typed per-group APIs (`CoreV1Api`, …) are not used: their generated request code is 2.9 MB of the
 * bundle, and compiling it was most of the action's start-up before its first request (README, Benchmark). One
 * generic client covers every verb the engine needs.
 *
 * All requests share one client-node `Configuration` carrying two middlewares: one sets our User-Agent (the server
 * attributes writes without a fieldManager to its first word) and the abort signal of the current call; the other
 * counts and logs each HTTP request, retries and discovery included. Both learn the call they belong to from an
 * AsyncLocalStorage, because `KubernetesObjectApi` ignores per-call configuration for middleware.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  HttpMethod,
  PatchStrategy,
  ServerConfiguration,
  ApiException,
  createConfiguration,
  type Configuration,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { nullLogger, type Logger } from '../logger.js';
import {
  knownKind,
  knownMapping,
  resolveKind,
  type ApplyOptions,
  type CallOptions,
  type DeleteOptions,
  type KindRef,
  type KubeClientOptions,
  type ListOptions,
  type ListPathOptions,
  type Manifest,
  type ObjectList,
  type WriteOptions,
} from './client-types.js';
import { isKubeStatus, type KubeTarget, type KubeVerb } from './errors.js';
import { ConnectionPools } from './connections.js';
import { ObjectApi, type KubeApis } from './object-api.js';
import { withRetry } from './retry.js';
import { fillKind, parseWarnings, targetOf, targetOfPath, toModel } from './wire.js';

// The calls' types, the object API and the wire helpers live beside the client; importers know them from here.
export * from './client-types.js';
export { ObjectApi, type KubeApis } from './object-api.js';
export { fillKind, parseWarnings, targetOfPath, toModel } from './wire.js';

interface CallContext {
  verb: KubeVerb;
  signal?: AbortSignal;
  warnings?: string[];
  /** The HTTP status of the call's last response. */
  status?: number;
}

const DEFAULT_FIELD_MANAGER = 'bodywork-deploy';

/** Kubernetes API access with retries, error translation and request counting. */
export class KubeClient {
  /** Typed API clients (call them through `call` to get retries and translated errors). */
  readonly apis: KubeApis;
  /** The API server URL. */
  readonly server: string;
  /** The kubeconfig context's namespace, or `default`. */
  readonly defaultNamespace: string;
  /** Requests and watches share connections (connections.ts). */
  readonly connections: ConnectionPools;
  private readonly config: Configuration;
  private readonly als = new AsyncLocalStorage<CallContext>();
  private readonly counts = new Map<string, number>();
  /** Objects as a create or apply of this client answered them when that very request created them (creationVersion). */
  private readonly createdByCall = new WeakMap<object, string>();

  private constructor(
    readonly kc: KubeConfig,
    readonly logger: Logger,
    private readonly options: KubeClientOptions,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server;
    this.defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
    const userAgent = options.userAgent ?? DEFAULT_FIELD_MANAGER;
    this.connections = new ConnectionPools(kc);
    this.config = createConfiguration({
      baseServer: new ServerConfiguration<Record<string, string>>(cluster.server, {}),
      authMethods: { default: { getName: () => 'kubeconfig', applySecurityAuthentication: (ctx: RequestContext) => this.connections.applySecurityAuthentication(ctx) } },
      promiseMiddleware: [
        {
          pre: async (ctx: RequestContext) => {
            ctx.setHeaderParam('User-Agent', userAgent);
            const call = this.als.getStore();
            if (call?.signal) ctx.setSignal(call.signal);
            this.noteRequest(ctx.getHttpMethod(), ctx.getUrl(), call?.verb);
            return ctx;
          },
          post: async (rsp: ResponseContext) => {
            const call = this.als.getStore();
            if (call) call.status = rsp.httpStatusCode;
            const header = rsp.headers['warning'];
            if (header) {
              const texts = parseWarnings(header);
              for (const t of texts) this.logger.debug(`the API server warns: ${t}`);
              call?.warnings?.push(...texts);
            }
            return rsp;
          },
        },
      ],
    });
    this.apis = { objects: new ObjectApi(this.config) };
  }

  /** A client for the kubeconfig's current context. */
  static create(kc: KubeConfig, logger: Logger = nullLogger, options: KubeClientOptions = {}): KubeClient {
    return new KubeClient(kc, logger, options);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Request accounting

  private noteRequest(method: string, url: string, verb: KubeVerb | undefined): void {
    const path = url.startsWith(this.server) ? url.slice(this.server.length) : url;
    const pathOnly = path.split('?')[0];
    const key = /^\/(api|apis\/[^/]+)\/[^/]+$/.test(pathOnly) || pathOnly === '/api' || pathOnly === '/apis' ? 'discover' : (verb ?? method.toLowerCase());
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.logger.debug(`${method} ${path}`);
  }

  /** Counts one request made outside client-node's request pipeline (watches). */
  countRequest(verb: KubeVerb): void {
    this.counts.set(verb, (this.counts.get(verb) ?? 0) + 1);
  }

  /** HTTP requests sent so far per verb (`get`, `list`, `apply`, `create`, `delete`, `watch`, `discover`, …), retries included. */
  requestCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** All requests sent so far. */
  totalRequests(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  resetRequestCounts(): void {
    this.counts.clear();
  }

  // -------------------------------------------------------------------------------------------------------------
  // The generic wrapper

  /**
   * Runs `fn` against the typed APIs with retries and error translation: the one way every call goes.
   * `idempotent: false` retries only failures that surely never reached the server.
   */
  async call<T>(verb: KubeVerb, target: KubeTarget, fn: (apis: KubeApis, attempt: number, call: CallContext) => Promise<T>, opts: CallOptions & { idempotent?: boolean } = {}): Promise<T> {
    return withRetry((attempt) => {
      const call: CallContext = { verb, signal: opts.signal, warnings: opts.warnings };
      return this.als.run(call, () => fn(this.apis, attempt, call));
    }, {
      context: { verb, ...target, server: this.server },
      idempotent: opts.idempotent ?? verb !== 'create',
      signal: opts.signal,
      logger: this.logger,
      ...this.options.retry,
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Generic verbs

  /**
   * Server-side apply (`PATCH` with `application/apply-patch+yaml`, `fieldManager`, `force`): creates or updates
   * `obj` to the given fields and returns the object as stored. Applying the same object again changes nothing
   * (same resourceVersion). A namespaced object without namespace goes to the context's namespace.
   */
  async apply<T extends KubernetesObject = KubernetesObject>(obj: Manifest, opts: ApplyOptions = {}): Promise<T> {
    const spec = this.withNamespace(obj);
    return this.call(
      'apply',
      targetOf(spec),
      async ({ objects }, attempt, call) =>
        this.noteCreation(
          await objects.patch(structuredClone(spec) as unknown as T, undefined, opts.dryRun ? 'All' : undefined, opts.fieldManager ?? DEFAULT_FIELD_MANAGER, opts.force ?? true, PatchStrategy.ServerSideApply),
          attempt,
          call,
          opts,
        ),
      opts,
    );
  }

  /**
   * The resourceVersion at which `obj` came into being, when it is the answer of a `create` or `apply` of this client
   * whose first request created it (HTTP 201). Nothing made after it (its pods, its ReplicaSets) existed at that
   * version, so a watch from there shows all of them with no list first. Undefined for any other object: an update's,
   * a dry run's, or a retried write's, whose answer may come from after other changes (a read-back, a no-op apply).
   */
  creationVersion(obj: KubernetesObject): string | undefined {
    return this.createdByCall.get(obj);
  }

  private noteCreation<T extends KubernetesObject>(obj: T, attempt: number, call: CallContext, opts: WriteOptions): T {
    const rv = obj.metadata?.resourceVersion;
    if (attempt === 1 && call.status === 201 && !opts.dryRun && rv) this.createdByCall.set(obj, rv);
    return obj;
  }

  /**
   * Creates `obj`. Retried like an idempotent call: when a retry meets AlreadyExists, the earlier attempt reached
   * the server, so the object is read back and returned. AlreadyExists on the first attempt is an error, and on any
   * attempt of a dry run (which stores nothing, so an earlier attempt cannot have created it).
   */
  async create<T extends KubernetesObject = KubernetesObject>(obj: Manifest, opts: WriteOptions = {}): Promise<T> {
    const spec = this.withNamespace(obj);
    const target = targetOf(spec);
    return this.call(
      'create',
      target,
      async ({ objects }, attempt, call) => {
        try {
          return this.noteCreation(await objects.create(structuredClone(spec) as unknown as T, undefined, opts.dryRun ? 'All' : undefined), attempt, call, opts);
        } catch (e) {
          if (attempt > 1 && !opts.dryRun && e instanceof ApiException && e.code === 409 && target.name) {
            this.logger.debug(`${target.kind} '${target.name}' exists after a retried create; reading it back`);
            const ref = { apiVersion: spec.apiVersion!, kind: spec.kind!, metadata: { name: target.name, namespace: target.namespace } };
            return this.als.run({ verb: 'get', signal: opts.signal }, () => objects.read<T>(ref));
          }
          throw e;
        }
      },
      { ...opts, idempotent: true },
    );
  }

  /**
   * Replaces `obj` (PUT; retried, as the same PUT again is idempotent). With `metadata.resourceVersion` set, the
   * server refuses it with 409 Conflict when the object changed since: an optimistic update.
   */
  async replace<T extends KubernetesObject = KubernetesObject>(obj: Manifest, opts: CallOptions = {}): Promise<T> {
    const spec = this.withNamespace(obj);
    return this.call('update', targetOf(spec), ({ objects }) => objects.replace(structuredClone(spec) as unknown as T), opts);
  }

  /** Reads one object; a missing one is a 404 `KubeApiError`. */
  async get<T extends KubernetesObject>(kind: KindRef, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<T> {
    const k = resolveKind(kind);
    return this.call('get', { kind: k.kind, namespace, name }, ({ objects }) => objects.read<T>({ ...k, metadata: { name, namespace } }), opts);
  }

  /** Reads one object, or `undefined` when it does not exist. */
  async find<T extends KubernetesObject>(kind: KindRef, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<T | undefined> {
    try {
      return await this.get<T>(kind, namespace, name, opts);
    } catch (e) {
      if (isKubeStatus(e, 404)) return undefined;
      throw e;
    }
  }

  /** Whether the object exists. */
  async exists(kind: KindRef, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<boolean> {
    return (await this.find(kind, namespace, name, opts)) !== undefined;
  }

  /** Lists objects of a kind (in `namespace`, or cluster-wide when undefined), with selectors. */
  async list<T extends KubernetesObject>(kind: KindRef, namespace: string | undefined, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const k = resolveKind(kind);
    const list: KubernetesListObject<T> = await this.call(
      'list',
      { kind: k.kind, namespace },
      ({ objects }) => objects.list<T>(k.apiVersion, k.kind, namespace, undefined, undefined, undefined, opts.fieldSelector, opts.labelSelector),
      opts,
    );
    return {
      items: list.items.map((i) => {
        if (!i.apiVersion) i.apiVersion = k.apiVersion;
        if (!i.kind) i.kind = k.kind;
        return i;
      }),
      resourceVersion: list.metadata?.resourceVersion ?? '',
    };
  }

  /**
   * Deletes an object (propagation `Background` unless told otherwise). Resolves `true` when the API accepted the
   * deletion, `false` when there was nothing to delete. The object may still exist afterwards (finalizers,
   * graceful pod deletion): wait for it with a watch when that matters.
   */
  async delete(kind: KindRef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<boolean> {
    const k = resolveKind(kind);
    try {
      await this.call(
        'delete',
        { kind: k.kind, namespace, name },
        async ({ objects }, attempt) => {
          try {
            const body = opts.resourceVersion !== undefined ? { preconditions: { resourceVersion: opts.resourceVersion } } : undefined;
            return await objects.delete({ ...k, metadata: { name, namespace } }, undefined, undefined, opts.gracePeriodSeconds, undefined, opts.propagationPolicy ?? 'Background', body);
          } catch (e) {
            // A retry that finds nothing: the earlier attempt did delete it.
            if (attempt > 1 && e instanceof ApiException && e.code === 404) return undefined;
            throw e;
          }
        },
        opts,
      );
      return true;
    } catch (e) {
      if (isKubeStatus(e, 404)) return false;
      throw e;
    }
  }

  /**
   * Lists a collection by URL path (`/apis/batch/v1/namespaces/ns/jobs`), returning typed models and the list's
   * resourceVersion: what a watch resumes from.
   */
  async listPath<T extends KubernetesObject>(path: string, opts: ListPathOptions = {}): Promise<ObjectList<T> & { apiVersion?: string; kind?: string }> {
    const target = targetOfPath(path);
    return this.call(
      'list',
      target,
      async () => {
        const query = new URLSearchParams();
        if (opts.labelSelector) query.set('labelSelector', opts.labelSelector);
        if (opts.fieldSelector) query.set('fieldSelector', opts.fieldSelector);
        const qs = query.toString();
        const raw = (await this.rawRequest(HttpMethod.GET, qs ? `${path}?${qs}` : path)) as {
          apiVersion?: string;
          kind?: string;
          metadata?: { resourceVersion?: string };
          items?: unknown[];
        };
        const itemKind = raw.kind?.replace(/List$/, '');
        return {
          apiVersion: raw.apiVersion,
          kind: itemKind,
          items: (raw.items ?? []).map((i) => (opts.raw ? fillKind<T>(i, raw.apiVersion, itemKind) : toModel<T>(i, raw.apiVersion, itemKind))),
          resourceVersion: raw.metadata?.resourceVersion ?? '',
        };
      },
      opts,
    );
  }

  /** A pod's log (the last `tailLines` lines, or the previous container's with `previous`). */
  async podLog(namespace: string, pod: string, opts: CallOptions & { container?: string; tailLines?: number; previous?: boolean } = {}): Promise<string> {
    return this.call(
      'read logs of',
      { kind: 'Pod', namespace, name: pod },
      async () => {
        const query = new URLSearchParams();
        if (opts.container !== undefined) query.set('container', opts.container);
        if (opts.tailLines !== undefined) query.set('tailLines', String(opts.tailLines));
        if (opts.previous) query.set('previous', 'true');
        const qs = query.toString();
        return this.rawRequest(HttpMethod.GET, `/api/v1/namespaces/${namespace}/pods/${pod}/log${qs ? `?${qs}` : ''}`, undefined, 'text');
      },
      opts,
    );
  }

  // -------------------------------------------------------------------------------------------------------------
  // Plumbing

  /** One HTTP request through client-node's transport and auth; JSON in and out (or text); non-2xx as `ApiException`. */
  private async rawRequest(method: HttpMethod, pathAndQuery: string, body: undefined, accept: 'text'): Promise<string>;
  private async rawRequest(method: HttpMethod, pathAndQuery: string, body?: unknown): Promise<unknown>;
  private async rawRequest(method: HttpMethod, pathAndQuery: string, body?: unknown, accept?: 'text'): Promise<unknown> {
    const ctx = this.config.baseServer.makeRequestContext(pathAndQuery, method);
    ctx.setHeaderParam('Accept', accept === 'text' ? 'text/plain, */*' : 'application/json');
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', 'application/json');
      ctx.setBody(JSON.stringify(body));
    }
    await this.connections.applySecurityAuthentication(ctx);
    for (const m of this.config.middleware) await m.pre(ctx).toPromise();
    const rsp = await this.config.httpApi.send(ctx).toPromise();
    const text = await rsp.body.text();
    if (rsp.httpStatusCode < 200 || rsp.httpStatusCode > 299) throw new ApiException(rsp.httpStatusCode, 'Unsuccessful HTTP Request', text, rsp.headers);
    if (accept === 'text') return text;
    return text ? JSON.parse(text) : undefined;
  }

  private withNamespace<T extends KubernetesObject>(obj: T): T {
    if (!obj.kind) throw new Error('object has no kind');
    const apiVersion = obj.apiVersion ?? knownKind(obj.kind)?.apiVersion;
    const known = apiVersion !== undefined ? knownMapping(apiVersion, obj.kind) : undefined;
    const clusterScoped = known ? !known.namespaced : ['Node', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition'].includes(obj.kind);
    if (clusterScoped || obj.metadata?.namespace) return { ...obj, apiVersion };
    return { ...obj, apiVersion, metadata: { ...obj.metadata, namespace: this.defaultNamespace } };
  }
}
