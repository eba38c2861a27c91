/** The scale and token subresources over HTTP; their rules are the kinds' (../strategy/apps.ts scale, auth.ts tokens). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { methodNotAllowed, unsupportedMediaType } from '../../machinery/errors.js';
import { newToken } from '../auth.js';
import { jsonPatch, mergePatch, strategicMerge } from '../patch.js';
import { keyOf } from '../resources.js';
import { scaleOf } from '../strategy/apps.js';
import type { HandlerContext } from './context.js';
import { PATCH_MEDIA, PATCH_TYPES, decodeObject, dryRun, manager, mediaType, readBody } from './request.js';
import { sendJson } from './responses.js';
import type { Route } from './route.js';

/** autoscaling/v1 Scale of a Deployment or ReplicaSet: GET, PUT, and JSON / merge / strategic merge PATCH. */
export async function scale(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, method: string): Promise<void> {
  const r = route.resource;
  const k = keyOf(r);
  const cur = ctx.store.get(k, route.namespace, route.name!);
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
  // The Scale's replicas and resourceVersion are what the write takes; the rules are the kind's (scaleReplicas in
  // ../strategy/apps.ts), so in-process writers get them too.
  const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { resourceVersion: next?.metadata?.resourceVersion || undefined }, spec: { replicas: next?.spec?.replicas } };
  const out = ctx.store.update(k, route.namespace, route.name!, scale, { dryRun: dryRun(q), fieldManager: manager(req, q), subresource: 'scale' });
  return sendJson(res, 200, scaleOf(out));
}

/**
 * serviceaccounts/token (TokenRequest): a random token, valid until its expiry, that authenticates like the main
 * token. Pods' projected serviceAccountToken volumes get one from the node, so in-cluster clients work here too.
 */
export async function tokenRequest(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, method: string): Promise<void> {
  if (method !== 'POST') throw methodNotAllowed({ group: '', resource: 'serviceaccounts/token' }, method);
  const body = decodeObject(await readBody(req), mediaType(req)) ?? {};
  ctx.store.get('serviceaccounts', route.namespace, route.name!);
  // Upstream clamps to at least 10 minutes (validation) and at most the server's maximum; 1 h is its default.
  const seconds = Math.max(600, Number(body.spec?.expirationSeconds ?? 3600) || 3600);
  const expires = Date.now() + seconds * 1000;
  const token = newToken();
  if (!dryRun(q)) ctx.serviceAccountTokens.set(token, expires);
  for (const [t, e] of ctx.serviceAccountTokens) if (e <= Date.now()) ctx.serviceAccountTokens.delete(t);
  sendJson(res, 201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: route.name, namespace: route.namespace, creationTimestamp: null },
    spec: { audiences: body.spec?.audiences ?? [], expirationSeconds: seconds, boundObjectRef: body.spec?.boundObjectRef ?? null },
    status: { token, expirationTimestamp: new Date(expires).toISOString().replace(/\.\d+Z$/, 'Z') },
  });
}
