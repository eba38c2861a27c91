/** GET of a collection (AS pkg/endpoints/handlers/get.go ListResource): selectors, Tables, chunking with limit/continue. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, badRequest, field, invalid } from '../../machinery/errors.js';
import { apiVersionOf, keyOf } from '../resources.js';
import { toTable, wantsTable } from '../tables.js';
import type { HandlerContext } from './context.js';
import { includeObject } from './request.js';
import { sendJson } from './responses.js';
import type { Route } from './route.js';

export function list(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
  const r = route.resource;
  if (q.get('sendInitialEvents') !== null) {
    throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [field.forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list')]);
  }
  // The stored objects themselves (read, then sent as JSON), at the store's version of the same moment.
  let items = ctx.store.view(keyOf(r), route.namespace, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
  let resourceVersion = String(ctx.hub.resourceVersion);
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
    if (token.rv < ctx.hub.oldestResumable) {
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
