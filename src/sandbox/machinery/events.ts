/**
 * core/v1 Event recorder, modelled on client-go's recorder (CG tools/record/event.go makeEvent,
 * events_cache.go EventCorrelator): the first occurrence creates an Event named
 * `<involved.name>.<hex UnixNano>` in the involved object's namespace; an identical repeat (same source,
 * involved object, type, reason and message) bumps `count` and `lastTimestamp` on the existing Event.
 * Best effort: recording never throws, as upstream.
 */
import { errorMessage } from '../../engine/errors.js';
import type { ClusterStore, EventRecorder, KubeObject } from '../types.js';
import { systemClock, type Clock } from './clock.js';
import { httpCode, isNotFound } from './errors.js';
import type { LogFn } from './log.js';
import { nowRFC3339 } from './time.js';

export interface EventRecorderOptions {
  /** `source.host` for kubelet events (upstream: the node name). */
  host?: string;
  log?: LogFn;
  /** Aggregation cache size (client-go keeps an LRU of 4096). */
  cacheSize?: number;
  /** Event timestamps (default the system clock). */
  clock?: Clock;
}

let lastNanos = 0n;
/** Unique, increasing UnixNano (upstream GenerateEventName uses time.Now().UnixNano()). */
function unixNano(nowMs: number): bigint {
  let n = BigInt(nowMs) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (n <= lastNanos) n = lastNanos + 1n;
  lastNanos = n;
  return n;
}

/**
 * The kubelet records container events against `spec.containers{name}` (K pkg/kubelet/container/ref.go
 * GenerateContainerRef). EventRecorder.record takes only the object, so the path travels on it under this symbol.
 */
export const FIELD_PATH = Symbol('involvedObject.fieldPath');

/** The pod as an event target for one of its containers. */
export function containerRef(pod: KubeObject, container: string, init = false): KubeObject {
  return Object.assign({ ...pod }, { [FIELD_PATH]: `spec.${init ? 'initContainers' : 'containers'}{${container}}` });
}

function fieldPathOf(involved: KubeObject): string | undefined {
  return (involved as KubeObject & { [FIELD_PATH]?: string })[FIELD_PATH];
}

/** The aggregation key of an Event (EventCorrelator): a repeat with the same key bumps `count`. */
export function eventKey(involved: KubeObject, type: string, reason: string, message: string, source: string): string {
  const namespace = involved.metadata.namespace || 'default';
  return [source, involved.metadata.uid, involved.kind, namespace, involved.metadata.name, fieldPathOf(involved) ?? '', type, reason, message].join('\u0000');
}

/**
 * A new Event (makeEvent) in the involved object's namespace, first seen `now`. `host` is the node for kubelet
 * events (`source.host`, `reportingInstance`).
 */
export function newEvent(involved: KubeObject, type: string, reason: string, message: string, source: string, now: number, host?: string): KubeObject {
  const namespace = involved.metadata.namespace || 'default';
  const ref: Record<string, unknown> = {
    kind: involved.kind,
    namespace: involved.metadata.namespace,
    name: involved.metadata.name,
    uid: involved.metadata.uid,
    apiVersion: involved.apiVersion,
    resourceVersion: involved.metadata.resourceVersion,
  };
  const fp = fieldPathOf(involved);
  if (fp) ref.fieldPath = fp;
  const name = `${involved.metadata.name}.${unixNano(now).toString(16)}`;
  const src: Record<string, string> = { component: source };
  const kubelet = !!host && source === 'kubelet';
  if (kubelet) src.host = host;
  const at = nowRFC3339(now);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace },
    involvedObject: ref,
    reason,
    message,
    source: src,
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: source,
    reportingInstance: kubelet ? host : '',
  };
}

/** The in-process recorder: Events written straight to the store. */
export function createEventRecorder(store: ClusterStore, opts: EventRecorderOptions = {}): EventRecorder {
  const cache = new Map<string, { namespace: string; name: string }>();
  const max = opts.cacheSize ?? 4096;
  const clock = opts.clock ?? systemClock;
  return {
    record(involved, type, reason, message, source) {
      try {
        const key = eventKey(involved, type, reason, message, source);
        const now = clock.now();
        const hit = cache.get(key);
        if (hit) {
          const ev = store.find('events', hit.namespace, hit.name);
          if (ev) {
            ev.count = (ev.count ?? 1) + 1;
            ev.lastTimestamp = nowRFC3339(now);
            store.update('events', hit.namespace, hit.name, ev);
            cache.delete(key); // LRU refresh
            cache.set(key, hit);
            return;
          }
          cache.delete(key);
        }
        const event = newEvent(involved, type, reason, message, source, now, opts.host);
        const { namespace, name } = event.metadata as { namespace: string; name: string };
        store.create('events', namespace, event);
        cache.set(key, { namespace, name });
        if (cache.size > max) cache.delete(cache.keys().next().value as string);
      } catch (err) {
        // A namespace being deleted, a store shutting down: events are best effort.
        if (!isNotFound(err) && httpCode(err) !== 403) opts.log?.(`event ${reason} for ${involved.kind} ${involved.metadata.name}: ${errorMessage(err)}`);
      }
    },
  };
}
