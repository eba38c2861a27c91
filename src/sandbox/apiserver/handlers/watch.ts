/** Watches (AS pkg/endpoints/handlers/watch.go, the cacher's semantics): resume, initial events, bookmarks, timeouts. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../types.js';
import { StatusError, badRequest, field, internalError, invalid } from '../../machinery/errors.js';
import { apiVersionOf } from '../resources.js';
import { compileFilter } from '../selectors.js';
import { toTable, wantsTable } from '../tables.js';
import type { WatchEventType } from '../watch.js';
import type { HandlerContext } from './context.js';
import { boolParam, includeObject } from './request.js';
import type { Route } from './route.js';

/** A watch of a collection: JSON events (one-row Tables when asked for), bookmarks, until its timeout or the client goes. */
export async function watch(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
  const r = route.resource;
  const filter = compileFilter(r, q.get('labelSelector') ?? undefined, q.get('fieldSelector') ?? undefined);
  const bookmarks = boolParam(q, 'allowWatchBookmarks') === true;
  const { sendInitial, fromRV } = await watchStart(ctx, q, bookmarks);
  const timeoutParam = q.get('timeoutSeconds');
  const timeoutS = timeoutParam !== null ? Number(timeoutParam) : 1800 + Math.floor(Math.random() * 1800);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  ctx.openWatches.add(res);
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
    ctx.openWatches.delete(res);
    res.end();
  };
  req.on('close', finish);
  res.on('close', finish);
  // A write racing the client's reset: the watch is over, not the server.
  res.on('error', finish);

  const label = `WATCH ${req.url}`;
  const faults = ctx.faultsFor(req);
  try {
    if (fromRV && fromRV > 0 && !sendInitial && faults?.expireResume(label)) {
      throw new StatusError(410, 'Expired', `too old resource version: ${fromRV} (${ctx.hub.resourceVersion})`);
    }
    watcher = ctx.hub.watch(
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
      bookmark(ctx.hub.resourceVersion);
      timers.push(setTimeout(tick, ctx.bookmarkMs).unref());
    };
    timers.push(setTimeout(tick, ctx.bookmarkMs).unref());
  }
  const cut = faults?.opts.watchCutAfterSeconds;
  const limit = cut !== undefined ? Math.min(cut, timeoutS) : timeoutS;
  timers.push(
    setTimeout(() => {
      if (bookmarks) bookmark(ctx.hub.resourceVersion);
      finish();
    }, limit * 1000).unref(),
  );
}

/** The watch's ListOptions, validated (AM pkg/apis/meta/internalversion/validation), and the version it resumes from once this server has reached it. */
async function watchStart(ctx: HandlerContext, q: URLSearchParams, bookmarks: boolean): Promise<{ sendInitial: boolean | undefined; fromRV: number | undefined }> {
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
  if (fromRV !== undefined && fromRV > ctx.hub.resourceVersion) {
    // A version this server has not reached (e.g. from before a restart): wait up to 3 s as the cacher does
    // (waitUntilFreshAndBlock), then 504 Timeout with ResourceVersionTooLarge so clients relist.
    const until = Date.now() + 3000;
    while (fromRV > ctx.hub.resourceVersion && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (fromRV > ctx.hub.resourceVersion) {
      throw new StatusError(504, 'Timeout', `Too large resource version: ${fromRV}, current: ${ctx.hub.resourceVersion}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      });
    }
  }
  return { sendInitial, fromRV };
}
