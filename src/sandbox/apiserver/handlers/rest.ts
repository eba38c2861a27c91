/**
 * The REST handlers (AS pkg/endpoints/handlers/{get,create,update,patch,delete,watch}.go): health, discovery, fault
 * injection, then the resource paths, dispatched to collection and object handlers. Status codes and bodies as
 * upstream's: POST 201, PUT 200, PATCH 200 (201 when apply created), DELETE 200 with the object (pending deletion, or
 * kinds whose registries return the deleted object) or a Success Status; errors are meta/v1 Status bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../types.js';
import { StatusError, internalError, methodNotAllowed, notFound, tooManyRequests } from '../../machinery/errors.js';
import type { FaultInjector } from '../faults.js';
import { apiVersionOf, keyOf } from '../resources.js';
import type { HandlerContext } from './context.js';
import { list } from './list.js';
import { object } from './object.js';
import { podLog } from './pod-log.js';
import { proxy } from './proxy.js';
import { boolParam, checkFields, checkKind, decodeObject, deleteOptions, dryRun, manager, mediaType, readBody } from './request.js';
import { sendJson, sendStatus, sendText } from './responses.js';
import { parseRoute, type Route } from './route.js';
import { watch } from './watch.js';

export async function handle(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const q = url.searchParams;
  const method = (req.method ?? 'GET').toUpperCase();
  const faults = ctx.faultsFor(req);

  if (path === '/healthz' || path === '/readyz' || path === '/livez' || /^\/(healthz|readyz|livez)\//.test(path)) {
    if (faults?.applies(path, true)) await injected(faults, req, res, path, method);
    if (res.writableEnded) return;
    return sendText(res, 200, 'ok');
  }
  const disc = method === 'GET' ? ctx.discovery.get(path) : undefined;
  const isDiscovery = disc !== undefined || path.startsWith('/openapi');
  if (faults && faults.applies(path, isDiscovery, q.get('watch') === 'true' || q.get('watch') === '1')) {
    await injected(faults, req, res, path, method);
    if (res.writableEnded || res.destroyed) return;
  }
  if (disc !== undefined) return sendJson(res, 200, disc);

  const route = parseRoute(path);
  if (!route) {
    // Unknown paths: the real server's 404 Status (also /openapi/v2, /openapi/v3; see the file comment).
    return sendStatus(res, new StatusError(404, 'NotFound', 'the server could not find the requested resource', {}));
  }
  const r = route.resource;
  if (route.subresource === 'proxy') return proxy(ctx, req, res, route, q);
  if (route.subresource === 'log') {
    if (method !== 'GET') throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
    return podLog(ctx, req, res, route, q);
  }
  if (route.watchPrefix && route.name && !route.subresource && method === 'GET') {
    // Legacy `/watch/…/{name}`: a watch of the collection narrowed to one name.
    const fs = q.get('fieldSelector');
    q.set('fieldSelector', fs ? `${fs},metadata.name=${route.name}` : `metadata.name=${route.name}`);
    return watch(ctx, req, res, { ...route, name: undefined }, q);
  }
  if (!route.name) return collection(ctx, req, res, route, q, method);
  return object(ctx, req, res, route, q, method);
}

/** A collection: list or watch, create, deletecollection. */
async function collection(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, method: string): Promise<void> {
  const r = route.resource;
  // Collection
  if (method === 'GET') {
    if (route.watchPrefix || boolParam(q, 'watch')) return watch(ctx, req, res, route, q);
    return list(ctx, req, res, route, q);
  }
  if (method === 'POST') {
    if (!r.verbs.includes('create')) throw methodNotAllowed({ group: r.group, resource: r.resource }, 'create');
    const body = decodeObject(await readBody(req), mediaType(req));
    if (route.namespace === undefined && r.namespaced) throw notFound({ group: '', resource: 'namespaces' }, '');
    checkKind(r, body);
    checkFields(res, q, r, body);
    const created = ctx.store.create(keyOf(r), route.namespace, body, { dryRun: dryRun(q), fieldManager: manager(req, q) });
    return sendJson(res, 201, created);
  }
  if (method === 'DELETE') {
    if (!r.verbs.includes('deletecollection')) throw methodNotAllowed({ group: r.group, resource: r.resource }, 'deletecollection');
    const dopts = await deleteOptions(req, q);
    const { items } = ctx.store.list(keyOf(r), route.namespace, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
    const out: KubeObject[] = [];
    for (const o of items) {
      try {
        const after = ctx.store.delete(keyOf(r), o.metadata.namespace, o.metadata.name!, dopts);
        out.push(after ?? o);
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 404)) throw e;
      }
    }
    return sendJson(res, 200, { kind: r.listKind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(ctx.hub.resourceVersion) }, items: out });
  }
  throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
}

/** Injected latency and failures (faults.ts). */
async function injected(faults: FaultInjector, req: IncomingMessage, res: ServerResponse, path: string, method: string): Promise<void> {
  const d = faults.decide(`${method} ${path}`);
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
