/**
 * The node's Event recorder over the API: the same Events as the in-process recorder (machinery/events.ts: name
 * `<involved>.<hex UnixNano>`, source kubelet/<node>, container fieldPath), created with POST and aggregated with
 * a merge PATCH of count/lastTimestamp, as client-go's recorder does. Best effort and in order per Event.
 */
import { errorMessage } from '../../engine/errors.js';
import { systemClock, type Clock } from '../machinery/clock.js';
import { httpCode, isNotFound } from '../machinery/errors.js';
import { eventKey, newEvent } from '../machinery/events.js';
import { nowRFC3339 } from '../machinery/time.js';
import type { EventRecorder, KubeObject } from '../types.js';
import { collectionPath, type NodeHttp } from './http.js';

export interface ApiEventRecorder extends EventRecorder {
  /** Resolves once every Event recorded so far was sent (or failed). */
  flush(): Promise<void>;
}

export interface ApiEventRecorderOptions {
  /** `source.host` of the Events (the node). */
  host: string;
  log?: (m: string) => void;
  /** Events remembered for aggregation (default 4096). */
  cacheSize?: number;
  /** Event timestamps (default the system clock). */
  clock?: Clock;
}

export function createApiEventRecorder(api: NodeHttp, opts: ApiEventRecorderOptions): ApiEventRecorder {
  const clock = opts.clock ?? systemClock;
  const cache = new Map<string, { namespace: string; name: string; count: number; sent: Promise<void> }>();
  const max = opts.cacheSize ?? 4096;
  let all: Promise<void> = Promise.resolve();
  const fail = (reason: string) => (err: unknown) => {
    // A namespace being deleted, a node shutting down: events are best effort.
    if (!isNotFound(err) && httpCode(err) !== 403) opts.log?.(`event ${reason}: ${errorMessage(err)}`);
  };
  return {
    record(involved: KubeObject, type, reason, message, source) {
      const key = eventKey(involved, type, reason, message, source);
      const nowMs = clock.now();
      const now = nowRFC3339(nowMs);
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
      const event = newEvent(involved, type, reason, message, source, nowMs, opts.host);
      const { namespace, name } = event.metadata as { namespace: string; name: string };
      const sent = api.request('POST', collectionPath('', 'v1', 'events', namespace), event).then(() => undefined, fail(reason));
      cache.set(key, { namespace, name, count: 1, sent });
      all = Promise.all([all, sent]).then(() => undefined);
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
    },
    flush: () => all,
  };
}
