/**
 * The sandbox's API server: the Kubernetes REST protocol over HTTPS (JSON only), on top of a ClusterStore; every
 * request authenticated (auth.ts).
 *
 * Follows AS pkg/endpoints/handlers/{get,create,update,patch,delete,watch}.go for status codes and bodies:
 * POST 201, PUT 200, PATCH 200 (201 when apply created), DELETE 200 with the object (pending deletion, or kinds
 * whose registries return the deleted object) or a Success Status; errors are meta/v1 Status bodies.
 *
 * OpenAPI: `/openapi/v2` answers 404; `/openapi/v3` serves schema-less documents that tell kubectl to leave field
 * validation to the server (`fieldValidation=Strict`), which checks unknown fields itself — see openapi.ts. So
 * `kubectl apply -f` works without `--validate=false`; `kubectl explain` does not.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { connectVia, type Dialer } from '../network/dial.js';
import { createCertificateAuthority, type CertificateAuthority } from '../pki.js';
import type { ClusterStore, DeleteOptions, KubeObject, PatchType, PodLogOptions, PodLogSource, ResourceType } from '../types.js';
import { allowedHosts, authenticate, newToken, servingCertificate } from './auth.js';
import { FaultInjector, type FaultOptions } from './faults.js';
import { StatusError, badRequest, conflict, field, internalError, invalid, methodNotAllowed, notFound, serviceUnavailable, tooManyRequests, unsupportedMediaType } from '../machinery/errors.js';
import { openapiDocument, openapiIndex, unknownFields } from './openapi.js';
import { jsonPatch, mergePatch, strategicMerge } from './patch.js';
import { decodeProtobufObject } from './protobuf/decode.js';
import { RETURNS_DELETED_OBJECT } from './registry.js';
import { RESOURCE_TYPES, apiVersionOf, keyOf, subresourceKind, subresourceVerbs } from './resources.js';
import { compileFilter, fromLabelSelector } from './selectors.js';
import { type IncludeObject, toTable, wantsTable } from './tables.js';
import { WatchHub, type WatchEventType } from './watch.js';
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
}

const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.8',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};
const PATCH_MEDIA = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
const BODY_MEDIA = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const MAX_BODY = 3 * 1024 * 1024;

class HttpError extends Error {}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

function sendStatus(res: ServerResponse, e: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };
  if (e.details?.retryAfterSeconds) headers['Retry-After'] = e.details.retryAfterSeconds;
  const data = JSON.stringify(e.toStatus());
  headers['Content-Length'] = Buffer.byteLength(data);
  res.writeHead(e.code, headers);
  res.end(data);
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new StatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** Decodes a JSON or YAML object body (create/update). */
function decodeObject(buf: Buffer, media: string, accepted = BODY_MEDIA): any {
  if (media && !accepted.includes(media)) throw unsupportedMediaType(accepted);
  if (media === 'application/vnd.kubernetes.protobuf') return decodeProtobufObject(buf);
  const text = buf.toString('utf8');
  if (!text.trim()) throw badRequest('Object \'Kind\' is missing in \'\'');
  try {
    return media === 'application/yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw badRequest(`the object provided is unrecognized: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The body's apiVersion/kind must be the endpoint's (AS handlers/create.go, update.go). */
function checkKind(r: ResourceType, body: any): void {
  const want = apiVersionOf(r);
  if (body?.apiVersion && body.apiVersion !== want) {
    throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${want})`);
  }
  if (body?.kind && body.kind !== r.kind) {
    throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${r.kind})`);
  }
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/**
 * fieldValidation (Strict | Warn | Ignore; Warn when unset): unknown fields fail the request (400) or come back as
 * Warning headers. See openapi.ts.
 */
function checkFields(res: ServerResponse, q: URLSearchParams, r: ResourceType, body: unknown): void {
  const mode = q.get('fieldValidation') ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(mode)) {
    throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(mode)}: supported values: "Ignore", "Strict", "Warn"`);
  }
  if (mode === 'Ignore') return;
  const unknown = unknownFields(body, r).map((f) => `unknown field ${JSON.stringify(f)}`);
  if (!unknown.length) return;
  if (mode === 'Strict') throw badRequest(`strict decoding error: ${unknown.join(', ')}`);
  res.setHeader(
    'Warning',
    unknown.map((u) => `299 - ${JSON.stringify(u)}`),
  );
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return v === 'true' || v === '1' || v === '';
}

function dryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  if (!v.length) return false;
  for (const x of v) {
    if (x !== 'All') throw invalid({ group: 'meta.k8s.io', kind: 'CreateOptions' }, '', [field.notSupported('dryRun', x, ['All'])]);
  }
  return true;
}

/** managerOrUserAgent (AS handlers/create.go): the fieldManager, else the User-Agent up to its first '/'. */
function manager(req: IncomingMessage, q: URLSearchParams): string {
  const m = q.get('fieldManager');
  if (m) return m;
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0].slice(0, 128) || 'unknown';
}

interface Route {
  group: string;
  version: string;
  resource: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Path after `proxy/`. */
  rest?: string;
  watchPrefix: boolean;
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
  let serverAddress = '';
  let reqCounter = 0;

  const groups = new Map<string, ResourceType[]>();
  for (const r of RESOURCE_TYPES) {
    const gv = apiVersionOf(r);
    groups.set(gv, [...(groups.get(gv) ?? []), r]);
  }

  function resourceList(gv: string): unknown {
    const resources: unknown[] = [];
    for (const r of groups.get(gv) ?? []) {
      const row: Record<string, unknown> = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
      if (r.shortNames?.length) row.shortNames = r.shortNames;
      if (r.categories?.length) row.categories = r.categories;
      resources.push(row);
    }
    // Subresource rows after every main resource (client-node takes the first row whose kind matches).
    for (const r of groups.get(gv) ?? []) {
      for (const sub of r.subresources) {
        const k = subresourceKind(r, sub);
        const row: Record<string, unknown> = { name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced };
        if (k.group !== undefined) {
          row.group = k.group;
          row.version = k.version;
        }
        row.kind = k.kind;
        row.verbs = subresourceVerbs(sub);
        resources.push(row);
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources };
  }

  function discovery(path: string): unknown | undefined {
    if (path === '/version') return SERVER_VERSION;
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
    if (path === '/apis') {
      const gs: unknown[] = [];
      for (const gv of groups.keys()) {
        if (!gv.includes('/')) continue;
        const [name, version] = gv.split('/');
        const v = { groupVersion: gv, version };
        gs.push({ name, versions: [v], preferredVersion: v });
      }
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: gs };
    }
    if (path === '/api/v1') return resourceList('v1');
    const m = path.match(/^\/apis\/([^/]+)\/([^/]+)$/);
    if (m && groups.has(`${m[1]}/${m[2]}`)) return resourceList(`${m[1]}/${m[2]}`);
    if (path === '/openapi/v3') return openapiIndex([...groups.keys()]);
    const o = path.match(/^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))$/);
    if (o) {
      const gv = o[1] ?? o[2];
      if (groups.has(gv)) return openapiDocument(groups.get(gv)!);
    }
    const g = path.match(/^\/apis\/([^/]+)$/);
    if (g) {
      const gv = [...groups.keys()].find((x) => x.startsWith(`${g[1]}/`));
      if (gv) {
        const v = { groupVersion: gv, version: gv.split('/')[1] };
        return { kind: 'APIGroup', apiVersion: 'v1', name: g[1], versions: [v], preferredVersion: v };
      }
    }
    return undefined;
  }

  function parseRoute(path: string): Route | undefined {
    const segs = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) {
      group = '';
      version = segs[1];
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1];
      version = segs[2];
      rest = segs.slice(3);
    } else return undefined;
    let watchPrefix = false;
    if (rest[0] === 'watch') {
      watchPrefix = true;
      rest = rest.slice(1);
    }
    const lookup = (res: string) => RESOURCE_TYPES.find((r) => r.group === group && r.version === version && r.resource === res);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const resource = lookup(rest[0] ?? '');
    if (!resource) return undefined;
    if (namespace !== undefined && !resource.namespaced) return undefined;
    const route: Route = { group, version, resource, namespace, watchPrefix };
    if (rest.length >= 2) route.name = rest[1];
    if (rest.length >= 3) {
      route.subresource = rest[2];
      if (rest[2] === 'proxy') route.rest = '/' + rest.slice(3).join('/');
      else if (rest.length > 3) return undefined;
      if (!resource.subresources.includes(rest[2])) return undefined;
    }
    return route;
  }

  const key = (r: ResourceType) => keyOf(r);

  // ---------------------------------------------------------------------------------------------------------------
  // Handlers

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    const method = (req.method ?? 'GET').toUpperCase();
    const faults = faultsFor(req);

    if (path === '/healthz' || path === '/readyz' || path === '/livez' || /^\/(healthz|readyz|livez)\//.test(path)) {
      if (faults?.applies(path, true)) await injected(req, res, path, method);
      if (res.writableEnded) return;
      return sendText(res, 200, 'ok');
    }
    const disc = method === 'GET' ? discovery(path) : undefined;
    const isDiscovery = disc !== undefined || path.startsWith('/openapi');
    if (faults && faults.applies(path, isDiscovery, q.get('watch') === 'true' || q.get('watch') === '1')) {
      await injected(req, res, path, method);
      if (res.writableEnded || res.destroyed) return;
    }
    if (disc !== undefined) return sendJson(res, 200, disc);

    const route = parseRoute(path);
    if (!route) {
      // Unknown paths: the real server's 404 Status (also /openapi/v2, /openapi/v3; see the file comment).
      return sendStatus(res, new StatusError(404, 'NotFound', 'the server could not find the requested resource', {}));
    }
    const r = route.resource;
    if (route.subresource === 'proxy') return proxy(req, res, route, q);
    if (route.subresource === 'log') {
      if (method !== 'GET') throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
      return podLog(req, res, route, q);
    }
    if (route.watchPrefix && route.name && !route.subresource && method === 'GET') {
      // Legacy `/watch/…/{name}`: a watch of the collection narrowed to one name.
      const fs = q.get('fieldSelector');
      q.set('fieldSelector', fs ? `${fs},metadata.name=${route.name}` : `metadata.name=${route.name}`);
      return watch(req, res, { ...route, name: undefined }, q);
    }
    if (!route.name) {
      // Collection
      if (method === 'GET') {
        if (route.watchPrefix || boolParam(q, 'watch')) return watch(req, res, route, q);
        return list(req, res, route, q);
      }
      if (method === 'POST') {
        if (!r.verbs.includes('create')) throw methodNotAllowed({ group: r.group, resource: r.resource }, 'create');
        const body = decodeObject(await readBody(req), mediaType(req));
        if (route.namespace === undefined && r.namespaced) throw notFound({ group: '', resource: 'namespaces' }, '');
        checkKind(r, body);
        checkFields(res, q, r, body);
        const created = store.create(key(r), route.namespace, body, { dryRun: dryRun(q), fieldManager: manager(req, q) });
        return sendJson(res, 201, created);
      }
      if (method === 'DELETE') {
        if (!r.verbs.includes('deletecollection')) throw methodNotAllowed({ group: r.group, resource: r.resource }, 'deletecollection');
        const dopts = await deleteOptions(req, q);
        const { items } = store.list(key(r), route.namespace, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
        const out: KubeObject[] = [];
        for (const o of items) {
          try {
            const after = store.delete(key(r), o.metadata.namespace, o.metadata.name!, dopts);
            out.push(after ?? o);
          } catch (e) {
            if (!(e instanceof StatusError && e.code === 404)) throw e;
          }
        }
        return sendJson(res, 200, { kind: r.listKind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(hub.resourceVersion) }, items: out });
      }
      throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
    }

    const ns = route.namespace;
    const name = route.name;
    const sub = route.subresource;
    if (sub === 'scale') return scale(req, res, route, q, method);
    if (sub === 'binding') {
      // K pkg/registry/core/pod/storage/storage.go BindingREST: sets spec.nodeName once, answers 201 Success.
      if (method !== 'POST') throw methodNotAllowed({ group: r.group, resource: 'pods/binding' }, method);
      const body = decodeObject(await readBody(req), mediaType(req));
      const target = body?.target;
      if (!target?.name) throw invalid({ group: '', kind: 'Binding' }, body?.metadata?.name ?? name, [field.required('target.name')]);
      if (body?.metadata?.name && body.metadata.name !== name) {
        throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
      }
      const pod = store.get('pods', ns, name);
      if (pod.spec?.nodeName) {
        throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is already assigned to node ${JSON.stringify(pod.spec.nodeName)}`);
      }
      if (pod.metadata.deletionTimestamp) throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      const uid = body?.metadata?.uid;
      if (uid && uid !== pod.metadata.uid) {
        throw conflict({ group: '', resource: 'pods/binding' }, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
      }
      store.patch('pods', ns, name, 'merge', { metadata: { resourceVersion: pod.metadata.resourceVersion }, spec: { nodeName: target.name } }, { fieldManager: manager(req, q), dryRun: dryRun(q) });
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (sub === 'token') return tokenRequest(req, res, route, q, method);
    if (sub === 'finalize') {
      if (method !== 'PUT') throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
      const body = decodeObject(await readBody(req), mediaType(req));
      return sendJson(res, 200, store.update(key(r), ns, name, body, { dryRun: dryRun(q), fieldManager: manager(req, q), subresource: 'finalize' }));
    }
    switch (method) {
      case 'GET': {
        const obj = store.get(key(r), ns, name);
        if (!sub && wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(r, [obj], { includeObject: includeObject(q) }));
        return sendJson(res, 200, obj);
      }
      case 'PUT': {
        const body = decodeObject(await readBody(req), mediaType(req));
        checkKind(r, body);
        checkFields(res, q, r, body);
        return sendJson(res, 200, store.update(key(r), ns, name, body, { dryRun: dryRun(q), fieldManager: manager(req, q), subresource: sub }));
      }
      case 'PATCH': {
        const media = mediaType(req);
        const type = PATCH_TYPES[media];
        if (!type) throw unsupportedMediaType(PATCH_MEDIA);
        const text = (await readBody(req)).toString('utf8');
        let patch: unknown;
        try {
          patch = type === 'apply' ? parseYaml(text) : JSON.parse(text);
        } catch (e) {
          throw badRequest(`error decoding patch: ${(e as Error).message.split('\n')[0]}`);
        }
        if (type !== 'json') checkFields(res, q, r, patch);
        const force = boolParam(q, 'force');
        const existed = store.find(key(r), ns, name) !== undefined;
        const out = store.patch(key(r), ns, name, type, patch, {
          dryRun: dryRun(q),
          fieldManager: type === 'apply' ? (q.get('fieldManager') ?? undefined) : manager(req, q),
          force: type === 'apply' ? (force ?? false) : force,
          subresource: sub,
        });
        return sendJson(res, existed ? 200 : 201, out);
      }
      case 'DELETE': {
        if (sub) throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
        const dopts = await deleteOptions(req, q);
        const before = store.get(key(r), ns, name);
        const after = store.delete(key(r), ns, name, dopts);
        if (after) return sendJson(res, 200, after);
        if (RETURNS_DELETED_OBJECT.has(key(r))) return sendJson(res, 200, before);
        const details: Record<string, unknown> = { name };
        if (r.group) details.group = r.group;
        details.kind = r.resource;
        details.uid = before.metadata.uid;
        return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
      }
      default:
        throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
    }
  }

  async function injected(req: IncomingMessage, res: ServerResponse, path: string, method: string): Promise<void> {
    const d = faults!.decide(`${method} ${path}`);
    // A client that gives up stops the wait (and the request: see handle), as a real server's would end its work.
    if (d.latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, d.latencyMs);
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (d.kind === 'error') sendStatus(res, internalError('injected fault'));
    else if (d.kind === 'throttle') sendStatus(res, tooManyRequests('the server has received too many requests and has asked us to try again later', d.retryAfterSeconds));
    if (res.writableEnded) req.resume();
  }

  async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const buf = await readBody(req);
    const body: any = buf.length && buf.toString('utf8').trim() ? decodeObject(buf, mediaType(req) || 'application/json') : {};
    const d: DeleteOptions = {};
    const policy = body.propagationPolicy ?? q.get('propagationPolicy') ?? undefined;
    const orphan = body.orphanDependents ?? boolParam(q, 'orphanDependents');
    if (policy !== undefined) {
      if (!['Background', 'Foreground', 'Orphan'].includes(policy)) {
        throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [field.notSupported('propagationPolicy', policy, ['Foreground', 'Background', 'Orphan', 'nil'])]);
      }
      if (orphan !== undefined) {
        throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [field.invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set')]);
      }
      d.propagationPolicy = policy;
    } else if (orphan !== undefined) d.propagationPolicy = orphan ? 'Orphan' : 'Background';
    const grace = body.gracePeriodSeconds ?? (q.get('gracePeriodSeconds') !== null ? Number(q.get('gracePeriodSeconds')) : undefined);
    if (grace !== undefined) d.gracePeriodSeconds = Number(grace);
    if (body.preconditions) d.preconditions = body.preconditions;
    if ((Array.isArray(body.dryRun) && body.dryRun.includes('All')) || dryRun(q)) d.dryRun = true;
    return d;
  }

  function list(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const r = route.resource;
    if (q.get('sendInitialEvents') !== null) {
      throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [field.forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list')]);
    }
    const listed = store.list(key(r), route.namespace, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
    let items = listed.items;
    let resourceVersion = listed.resourceVersion;
    const metadata: Record<string, unknown> = {};
    // Chunking (limit/continue): the token carries the list's resourceVersion and the key to start after, like
    // upstream's (AS pkg/storage/continue.go); pages come from the current state, and a token older than the watch
    // history answers 410 as a compacted etcd revision would.
    const cont = q.get('continue');
    if (cont) {
      let token: { rv: number; start: string };
      try {
        token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8'));
        if (typeof token.rv !== 'number' || typeof token.start !== 'string') throw new Error('bad token');
      } catch {
        throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      }
      if (token.rv < hub.oldestResumable) {
        throw new StatusError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > token.start);
      resourceVersion = String(token.rv);
    }
    const limit = Number(q.get('limit') ?? 0);
    if (Number.isInteger(limit) && limit > 0 && items.length > limit) {
      const last = items[limit - 1];
      const remaining = items.length - limit;
      items = items.slice(0, limit);
      metadata.continue = Buffer.from(JSON.stringify({ rv: Number(resourceVersion), start: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64');
      if (!q.get('labelSelector') && !q.get('fieldSelector')) metadata.remainingItemCount = remaining;
    }
    if (wantsTable(req.headers.accept)) {
      const t = toTable(r, items, { includeObject: includeObject(q), resourceVersion });
      Object.assign(t.metadata, metadata);
      return sendJson(res, 200, t);
    }
    sendJson(res, 200, { kind: r.listKind, apiVersion: apiVersionOf(r), metadata: { resourceVersion, ...metadata }, items });
  }

  async function watch(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
    const r = route.resource;
    const filter = compileFilter(r, q.get('labelSelector') ?? undefined, q.get('fieldSelector') ?? undefined);
    const bookmarks = boolParam(q, 'allowWatchBookmarks') === true;
    const sendInitial = boolParam(q, 'sendInitialEvents');
    const rvMatch = q.get('resourceVersionMatch');
    if (sendInitial !== undefined) {
      // ValidateListOptions (AM pkg/apis/meta/internalversion/validation/validation.go).
      const errs = [];
      if (rvMatch !== 'NotOlderThan') errs.push(field.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
      if (!bookmarks) errs.push(field.forbidden('allowWatchBookmarks', 'allowWatchBookmarks must be true if sendInitialEvents = true'));
      if (errs.length) throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', errs);
    } else if (rvMatch) {
      throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [field.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch')]);
    }
    const rvParam = q.get('resourceVersion');
    let fromRV: number | undefined;
    if (rvParam !== null && rvParam !== '') {
      fromRV = Number(rvParam);
      if (!Number.isInteger(fromRV) || fromRV < 0) throw badRequest(`invalid resource version: strconv.ParseUint: parsing ${JSON.stringify(rvParam)}: invalid syntax`);
    }
    if (fromRV !== undefined && fromRV > hub.resourceVersion) {
      // A version this server has not reached (e.g. from before a restart): wait up to 3 s as the cacher does
      // (waitUntilFreshAndBlock), then 504 Timeout with ResourceVersionTooLarge so clients relist.
      const until = Date.now() + 3000;
      while (fromRV > hub.resourceVersion && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      if (fromRV > hub.resourceVersion) {
        throw new StatusError(504, 'Timeout', `Too large resource version: ${fromRV}, current: ${hub.resourceVersion}`, {
          causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
          retryAfterSeconds: 1,
        });
      }
    }
    const timeoutParam = q.get('timeoutSeconds');
    const timeoutS = timeoutParam !== null ? Number(timeoutParam) : 1800 + Math.floor(Math.random() * 1800);

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    openWatches.add(res);
    let closed = false;
    const timers: NodeJS.Timeout[] = [];
    const asTable = wantsTable(req.headers.accept);
    const include = includeObject(q);
    const write = (type: WatchEventType, object: unknown) => {
      // Also ended from outside (the server stopping ends every watch): a bookmark timer may still fire after that.
      if (closed || res.writableEnded || res.destroyed) return;
      // Table watches carry one-row Tables (bookmarks and errors stay as they are).
      const out = asTable && type !== 'BOOKMARK' && type !== 'ERROR' ? toTable(r, [object as KubeObject], { includeObject: include }) : object;
      res.write(JSON.stringify({ type, object: out }) + '\n');
    };
    const bookmark = (rv: number, initialEnd = false) => {
      const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
      if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
      write('BOOKMARK', { kind: r.kind, apiVersion: apiVersionOf(r), metadata });
    };
    let watcher: { stop(): void } | undefined;
    const finish = () => {
      if (closed) return;
      closed = true;
      watcher?.stop();
      for (const t of timers) clearTimeout(t);
      openWatches.delete(res);
      res.end();
    };
    req.on('close', finish);
    res.on('close', finish);
    // A write racing the client's reset: the watch is over, not the server.
    res.on('error', finish);

    const label = `WATCH ${req.url}`;
    const faults = faultsFor(req);
    try {
      if (fromRV && fromRV > 0 && !sendInitial && faults?.expireResume(label)) {
        throw new StatusError(410, 'Expired', `too old resource version: ${fromRV} (${hub.resourceVersion})`);
      }
      watcher = hub.watch(
        { resource: r, namespace: route.namespace, filter, resourceVersion: fromRV, sendInitialEvents: sendInitial === true },
        (type, obj) => write(type, obj),
        (rv) => bookmark(rv, true),
      );
    } catch (e) {
      const se = e instanceof StatusError ? e : internalError(String(e));
      write('ERROR', se.toStatus());
      finish();
      return;
    }
    if (bookmarks) {
      const tick = () => {
        bookmark(hub.resourceVersion);
        timers.push(setTimeout(tick, bookmarkMs).unref());
      };
      timers.push(setTimeout(tick, bookmarkMs).unref());
    }
    const cut = faults?.opts.watchCutAfterSeconds;
    const limit = cut !== undefined ? Math.min(cut, timeoutS) : timeoutS;
    timers.push(
      setTimeout(() => {
        if (bookmarks) bookmark(hub.resourceVersion);
        finish();
      }, limit * 1000).unref(),
    );
  }

  function scaleOf(obj: KubeObject): KubeObject {
    const sel = obj.spec?.selector;
    const reqs = fromLabelSelector(sel);
    const selector = reqs
      .map((x) => (x.op === '=' ? `${x.key}=${x.values[0]}` : x.op === 'exists' ? x.key : x.op === '!exists' ? `!${x.key}` : `${x.key} ${x.op} (${(x as { values: string[] }).values.join(',')})`))
      .join(',');
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: obj.spec?.replicas ?? 0 },
      status: { replicas: obj.status?.replicas ?? 0, selector },
    };
  }

  /**
   * serviceaccounts/token (TokenRequest): a random token, valid until its expiry, that authenticates like the main
   * token. Pods' projected serviceAccountToken volumes get one from the node, so in-cluster clients work here too.
   */
  async function tokenRequest(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, method: string): Promise<void> {
    if (method !== 'POST') throw methodNotAllowed({ group: '', resource: 'serviceaccounts/token' }, method);
    const body = decodeObject(await readBody(req), mediaType(req)) ?? {};
    store.get('serviceaccounts', route.namespace, route.name!);
    // Upstream clamps to at least 10 minutes (validation) and at most the server's maximum; 1 h is its default.
    const seconds = Math.max(600, Number(body.spec?.expirationSeconds ?? 3600) || 3600);
    const expires = Date.now() + seconds * 1000;
    const token = newToken();
    if (!dryRun(q)) auth.serviceAccountTokens.set(token, expires);
    for (const [t, e] of auth.serviceAccountTokens) if (e <= Date.now()) auth.serviceAccountTokens.delete(t);
    sendJson(res, 201, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: route.name, namespace: route.namespace, creationTimestamp: null },
      spec: { audiences: body.spec?.audiences ?? [], expirationSeconds: seconds, boundObjectRef: body.spec?.boundObjectRef ?? null },
      status: { token, expirationTimestamp: new Date(expires).toISOString().replace(/\.\d+Z$/, 'Z') },
    });
  }

  async function scale(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, method: string): Promise<void> {
    const r = route.resource;
    const k = key(r);
    const cur = store.get(k, route.namespace, route.name!);
    if (method === 'GET') return sendJson(res, 200, scaleOf(cur));
    let next: any;
    if (method === 'PUT') next = decodeObject(await readBody(req), mediaType(req));
    else if (method === 'PATCH') {
      const type = PATCH_TYPES[mediaType(req)];
      if (!type || type === 'apply') throw unsupportedMediaType(PATCH_MEDIA.slice(0, 3));
      const patch = JSON.parse((await readBody(req)).toString('utf8') || 'null');
      const base = scaleOf(cur);
      next = type === 'json' ? jsonPatch(base, patch) : type === 'merge' ? mergePatch(base, patch) : strategicMerge(base, patch);
    } else throw methodNotAllowed({ group: r.group, resource: `${r.resource}/scale` }, method);
    // Scale.spec.replicas is a plain int32 with omitempty (k8s.io/api autoscaling/v1 types.go): absent means 0,
    // which is how Go clients (protobuf or JSON) send a scale to zero.
    if (next?.spec?.replicas === undefined) next = { ...next, spec: { ...next?.spec, replicas: 0 } };
    if (typeof next.spec.replicas !== 'number' || !Number.isInteger(next.spec.replicas)) {
      throw invalid({ group: 'autoscaling', kind: 'Scale' }, route.name!, [field.invalid('spec.replicas', next.spec.replicas, 'must be an integer')]);
    }
    if (next.spec.replicas < 0) throw invalid({ group: 'autoscaling', kind: 'Scale' }, route.name!, [field.invalid('spec.replicas', next.spec.replicas, 'must be greater than or equal to 0')]);
    const body = structuredClone(cur);
    body.spec.replicas = next.spec.replicas;
    body.metadata.resourceVersion = next.metadata?.resourceVersion || undefined;
    const out = store.update(k, route.namespace, route.name!, body, { dryRun: dryRun(q), fieldManager: manager(req, q), subresource: 'scale' });
    return sendJson(res, 200, scaleOf(out));
  }

  function podLog(_req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const pod = store.get('pods', route.namespace, route.name!);
    const names = (pod.spec?.containers ?? []).map((c: any) => c.name as string);
    const initNames = (pod.spec?.initContainers ?? []).map((c: any) => c.name as string);
    let container = q.get('container') || undefined;
    // K pkg/registry/core/pod/strategy.go LogLocation.
    if (!container) {
      if (names.length === 1) container = names[0];
      else {
        let msg = `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`;
        if (initNames.length) msg += ` or one of the init containers: [${initNames.join(' ')}]`;
        throw badRequest(msg);
      }
    } else if (!names.includes(container) && !initNames.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
    }
    if (!logs) return proxyPodLog(res, pod, container!, q);
    const num = (n: string) => (q.get(n) !== null ? Number(q.get(n)) : undefined);
    const lo: PodLogOptions = {
      container,
      follow: boolParam(q, 'follow') ?? false,
      previous: boolParam(q, 'previous') ?? false,
      timestamps: boolParam(q, 'timestamps') ?? false,
    };
    if (num('tailLines') !== undefined) lo.tailLines = num('tailLines');
    if (num('sinceSeconds') !== undefined) lo.sinceSeconds = num('sinceSeconds');
    if (num('limitBytes') !== undefined) lo.limitBytes = num('limitBytes');
    if (q.get('sinceTime')) lo.sinceTime = q.get('sinceTime')!;
    const stream = logs.open(route.namespace!, route.name!, lo);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    stream.on('data', (c) => res.write(c));
    stream.on('end', () => res.end());
    stream.on('error', () => res.end());
    res.on('close', () => stream.destroy());
  }

  /**
   * pods/log as upstream serves it (K pkg/registry/core/pod/rest/log.go, LogLocation): the kubelet of the pod's Node
   * at its InternalIP and daemon endpoint port, over TLS with the API server's kubelet client certificate; the
   * kubelet's answer (its Status on errors) is passed through. An unscheduled pod has no log yet: empty 200.
   */
  function proxyPodLog(res: ServerResponse, pod: KubeObject, container: string, q: URLSearchParams): void {
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (!nodeName) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 });
      res.end();
      return;
    }
    const node = store.get('nodes', undefined, nodeName);
    const addrs: any[] = node.status?.addresses ?? [];
    const host = (addrs.find((a) => a.type === 'InternalIP') ?? addrs.find((a) => a.type === 'Hostname'))?.address;
    const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0);
    if (!host || !port || !opts.kubeletClient) throw badRequest(`no kubelet endpoint for node ${JSON.stringify(nodeName)} to read the log of pod ${pod.metadata.name}`);
    const fwd = new URLSearchParams();
    for (const n of ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes']) if (q.get(n) !== null) fwd.set(n, q.get(n)!);
    const seg = (x: string) => encodeURIComponent(x);
    const path = `/containerLogs/${seg(pod.metadata.namespace!)}/${seg(pod.metadata.name!)}/${seg(container)}${fwd.size ? `?${fwd}` : ''}`;
    const { cert, key, ca } = opts.kubeletClient;
    const up = https.get({ host, port, path, cert, key, ca }, (kr) => {
      if (kr.statusCode !== 200) {
        const chunks: Buffer[] = [];
        kr.on('data', (c: Buffer) => chunks.push(c));
        kr.on('end', () => {
          let st: any;
          try {
            st = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            st = { message: Buffer.concat(chunks).toString('utf8').slice(0, 1024) };
          }
          sendStatus(res, new StatusError(kr.statusCode ?? 500, st?.reason ?? 'InternalError', String(st?.message ?? '')));
        });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      kr.on('data', (c) => res.write(c));
      kr.on('end', () => res.end());
      kr.on('error', () => res.end());
    });
    up.on('error', (e) => {
      if (!res.headersSent) sendStatus(res, internalError(`error reading the log from the kubelet of node ${nodeName}: ${e.message}`));
      else res.end();
    });
    res.on('close', () => up.destroy());
  }

  async function proxy(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
    const r = route.resource;
    // `name`, `name:port` (port name or number); a leading `http:`/`https:` scheme is accepted and ignored.
    const parts = route.name!.split(':').filter((x, i, a) => !(i === 0 && a.length === 3 && (x === 'http' || x === 'https')));
    const name = parts[0];
    const portSpec: string | undefined = parts[1];
    let target: { host: string; port: number };
    if (r.resource === 'services') {
      // As kube-apiserver's service ResourceLocation: a port number names the Service port with that number; then an
      // endpoint port of exactly that name (empty when the path gives none) is looked for, so a Service whose only
      // port is named answers 503 to `services/<svc>/proxy`.
      let portName = portSpec ?? '';
      if (/^\d+$/.test(portName)) {
        const svc = store.get('services', route.namespace, name);
        const sp = ((svc.spec?.ports ?? []) as any[]).find((p) => String(p.port) === portName);
        if (!sp) throw serviceUnavailable(`no service port ${portName} found for service "${name}"`);
        portName = sp.name ?? '';
      }
      const ep = store.find('endpoints', route.namespace, name);
      let found: { host: string; port: number } | undefined;
      for (const subset of ep?.subsets ?? []) {
        const port = (subset.ports ?? []).find((p: any) => (p.name ?? '') === portName);
        const addrs: any[] = subset.addresses ?? [];
        if (port && addrs.length) {
          found = { host: addrs[Math.floor(Math.random() * addrs.length)].ip, port: port.port };
          break;
        }
      }
      if (!found) throw serviceUnavailable(`no endpoints available for service "${name}"`);
      target = found;
    } else {
      const pod = store.get('pods', route.namespace, name);
      const ip = pod.status?.podIP;
      const ports = (pod.spec?.containers ?? []).flatMap((c: any) => c.ports ?? []);
      const p = portSpec === undefined ? ports[0]?.containerPort : (ports.find((x: any) => x.name === portSpec)?.containerPort ?? Number(portSpec));
      if (!ip || !p) throw serviceUnavailable(`pod ${name} has no IP or port to proxy to`);
      target = { host: ip, port: Number(p) };
    }
    const qs = q.toString();
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.authorization;
    await new Promise<void>((resolve) => {
      const via = opts.dial ? { createConnection: connectVia(opts.dial, target.host, target.port) } : {};
      const up = http.request({ host: target.host, port: target.port, method: req.method, path: (route.rest || '/') + (qs ? `?${qs}` : ''), headers, ...via }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
        ur.on('end', resolve);
        ur.on('error', () => resolve());
      });
      up.on('error', (e) => {
        sendStatus(res, serviceUnavailable(`error trying to reach service: ${e.message}`));
        resolve();
      });
      req.pipe(up);
    });
  }

  // ---------------------------------------------------------------------------------------------------------------

  const host = opts.host ?? '127.0.0.1';
  const auth = { ca: opts.ca ?? (await createCertificateAuthority('bodywork-sandbox-ca')), token: opts.token ?? newToken(), serviceAccountTokens: new Map<string, number>() };
  const serving = await servingCertificate(auth.ca, host);
  let hosts = new Set<string>();
  // requestCert without rejectUnauthorized: a client certificate is optional (token clients send none), and one the
  // CA did not sign only leaves the socket unauthorized, so the request falls through to the token check.
  const server = https.createServer({ ...serving, ca: [auth.ca.cert], requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
    reqCounter++;
    (async () => {
      authenticate(req, auth, hosts);
      await handle(req, res);
    })().catch((e) => {
      if (e instanceof StatusError) sendStatus(res, e);
      else if (e instanceof HttpError) sendStatus(res, badRequest(e.message));
      else sendStatus(res, internalError(errorMessage(e)));
      req.resume();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  serverAddress = `${addr.address}:${addr.port}`;
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
    close: async () => {
      for (const w of [...openWatches]) w.end();
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      void reqCounter;
    },
  };
}
