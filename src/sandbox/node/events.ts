/**
 * The node's Event recorder over the API: the same Events as the in-process recorder (controllers/events.ts: name
 * `<involved>.<hex UnixNano>`, source kubelet/<node>, container fieldPath), created with POST and aggregated with
 * a merge PATCH of count/lastTimestamp, as client-go's recorder does. Best effort and in order per Event.
 */
import { FIELD_PATH } from '../controllers/events.js';
import { nowRFC3339 } from '../controllers/util.js';
import type { EventRecorder, KubeObject } from '../types.js';
import { collectionPath, type NodeHttp } from './http.js';

let lastNanos = 0n;
function unixNano(): bigint {
  let n = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (n <= lastNanos) n = lastNanos + 1n;
  lastNanos = n;
  return n;
}

export interface ApiEventRecorder extends EventRecorder {
  /** Resolves once every Event recorded so far was sent (or failed). */
  flush(): Promise<void>;
}

export function createApiEventRecorder(api: NodeHttp, opts: { host: string; log?: (m: string) => void; cacheSize?: number }): ApiEventRecorder {
  const cache = new Map<string, { namespace: string; name: string; count: number; sent: Promise<void> }>();
  const max = opts.cacheSize ?? 4096;
  let all: Promise<void> = Promise.resolve();
  const fail = (reason: string) => (err: unknown) => {
    const code = (err as { code?: number }).code;
    // A namespace being deleted, a node shutting down: events are best effort.
    if (code !== 404 && code !== 403) opts.log?.(`event ${reason}: ${(err as Error).message}`);
  };
  return {
    record(involved: KubeObject, type, reason, message, source) {
      const namespace = involved.metadata.namespace || 'default';
      const fp = (involved as KubeObject & { [FIELD_PATH]?: string })[FIELD_PATH];
      const key = [source, involved.metadata.uid, involved.kind, namespace, involved.metadata.name, fp ?? '', type, reason, message].join('\u0000');
      const now = nowRFC3339();
      const hit = cache.get(key);
      if (hit) {
        hit.count++;
        const count = hit.count;
        hit.sent = hit.sent.then(() =>
          api
            .request('PATCH', `${collectionPath('', 'v1', 'events', hit.namespace)}/${hit.name}`, { count, lastTimestamp: now }, 'application/merge-patch+json')
            .then(() => undefined, fail(reason)),
        );
        all = Promise.all([all, hit.sent]).then(() => undefined);
        cache.delete(key);
        cache.set(key, hit);
        return;
      }
      const ref: Record<string, unknown> = {
        kind: involved.kind,
        namespace: involved.metadata.namespace,
        name: involved.metadata.name,
        uid: involved.metadata.uid,
        apiVersion: involved.apiVersion,
        resourceVersion: involved.metadata.resourceVersion,
      };
      if (fp) ref.fieldPath = fp;
      const name = `${involved.metadata.name}.${unixNano().toString(16)}`;
      const src: Record<string, string> = { component: source };
      if (source === 'kubelet') src.host = opts.host;
      const event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: ref,
        reason,
        message,
        source: src,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: source,
        reportingInstance: source === 'kubelet' ? opts.host : '',
      };
      const sent = api.request('POST', collectionPath('', 'v1', 'events', namespace), event).then(() => undefined, fail(reason));
      cache.set(key, { namespace, name, count: 1, sent });
      all = Promise.all([all, sent]).then(() => undefined);
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
    },
    flush: () => all,
  };
}
