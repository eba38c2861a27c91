/** The handlers of one object (AS pkg/endpoints/handlers/{get,update,patch,delete}.go). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { badRequest, methodNotAllowed, unsupportedMediaType } from '../../machinery/errors.js';
import { RETURNS_DELETED_OBJECT } from '../registry.js';
import { keyOf } from '../resources.js';
import { bindPod } from '../strategy/pods.js';
import { toTable, wantsTable } from '../tables.js';
import { storedObject, type HandlerContext } from './context.js';
import { PATCH_MEDIA, PATCH_TYPES, boolParam, checkFields, checkKind, decodeObject, deleteOptions, dryRun, includeObject, manager, mediaType, readBody } from './request.js';
import { sendJson } from './responses.js';
import type { Route } from './route.js';
import { scale, tokenRequest } from './subresources.js';

/** One object: get, replace, patch, delete; and the binding and finalize subresources. */
export async function object(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, method: string): Promise<void> {
  const r = route.resource;
  const ns = route.namespace;
  const name = route.name!;
  const sub = route.subresource;
  if (sub === 'scale') return scale(ctx, req, res, route, q, method);
  if (sub === 'binding') {
    // K pkg/registry/core/pod/storage/storage.go BindingREST, whose rules are the pod strategy's: 201 Success.
    if (method !== 'POST') throw methodNotAllowed({ group: r.group, resource: 'pods/binding' }, method);
    const body = decodeObject(await readBody(req), mediaType(req));
    bindPod(ctx.store, ns, name, body, { fieldManager: manager(req, q), dryRun: dryRun(q) });
    return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
  if (sub === 'token') return tokenRequest(ctx, req, res, route, q, method);
  if (sub === 'finalize') {
    if (method !== 'PUT') throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
    const body = decodeObject(await readBody(req), mediaType(req));
    return sendJson(res, 200, ctx.store.update(keyOf(r), ns, name, body, { dryRun: dryRun(q), fieldManager: manager(req, q), subresource: 'finalize' }));
  }
  switch (method) {
    case 'GET': {
      const obj = storedObject(ctx, keyOf(r), ns, name);
      if (!sub && wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(r, [obj], { includeObject: includeObject(q) }));
      return sendJson(res, 200, obj);
    }
    case 'PUT': {
      const body = decodeObject(await readBody(req), mediaType(req));
      checkKind(r, body);
      checkFields(res, q, r, body);
      return sendJson(res, 200, ctx.store.update(keyOf(r), ns, name, body, { dryRun: dryRun(q), fieldManager: manager(req, q), subresource: sub }));
    }
    case 'PATCH':
      return patch(ctx, req, res, route, q);
    case 'DELETE':
      return remove(ctx, req, res, route, q);
    default:
      throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
  }
}

/** PATCH: JSON, merge, strategic merge, or server-side apply (YAML). */
async function patch(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
  const r = route.resource;
  const ns = route.namespace;
  const name = route.name!;
  const sub = route.subresource;
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
  const existed = ctx.store.peek(keyOf(r), ns, name) !== undefined;
  const out = ctx.store.patch(keyOf(r), ns, name, type, patch, {
    dryRun: dryRun(q),
    fieldManager: type === 'apply' ? (q.get('fieldManager') ?? undefined) : manager(req, q),
    force: type === 'apply' ? (force ?? false) : force,
    subresource: sub,
  });
  return sendJson(res, existed ? 200 : 201, out);
}

/** DELETE: the object as it is after (pending deletion), the deleted object, or a Success Status. */
async function remove(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
  const r = route.resource;
  const ns = route.namespace;
  const name = route.name!;
  const method = 'DELETE';
  const sub = route.subresource;
  if (sub) throw methodNotAllowed({ group: r.group, resource: r.resource }, method);
  const dopts = await deleteOptions(req, q);
  const before = ctx.store.get(keyOf(r), ns, name);
  const after = ctx.store.delete(keyOf(r), ns, name, dopts);
  if (after) return sendJson(res, 200, after);
  if (RETURNS_DELETED_OBJECT.has(keyOf(r))) return sendJson(res, 200, before);
  const details: Record<string, unknown> = { name };
  if (r.group) details.group = r.group;
  details.kind = r.resource;
  details.uid = before.metadata.uid;
  return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
}
