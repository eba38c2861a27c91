/**
 * Following a container's log live (`GET .../pods/<pod>/log?follow=true&timestamps=true`), with resumption.
 *
 * client-node's `Log` pipes the response into a Writable and never tells when the response broke off (a network
 * cut, a proxy's or undici's body timeout): the Writable just stops. So this opens the stream itself with
 * node:http(s) and the kubeconfig's TLS and auth options (`applyToHTTPSOptions`, exec plugins included), and
 * when a stream ends while the container still runs it follows again from the last line's timestamp, skipping
 * the lines it already delivered. When a stream ends without new lines (or fails) it asks again at the pod's next
 * change (the caller's watch) or after a back-off, whichever comes first, never in a tight loop.
 * Lines are split by `LogLineSplitter` (log-lines.ts): progress-bar redraws, very long lines, flat memory.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { requestFailure, resendIfStale, type KubeClient } from '../kube/index.js';
import { LogLineSplitter } from './log-lines.js';
import { errorMessage } from '../errors.js';

export { MAX_LOG_LINE_BYTES } from './log-lines.js';

export interface FollowLogOptions {
  client: KubeClient;
  namespace: string;
  pod: string;
  container: string;
  /** Stops following (the promise then resolves). */
  signal: AbortSignal;
  /** Each complete line, without its newline (a last partial line is delivered at the end). */
  onLine: (line: string) => void;
  /** Told when the follow gives up before the log's end (repeated failures), so the log can say it was cut off. */
  onCutOff?: (message: string) => void;
  /** Whether the container has terminated, by the caller's latest view of the pod (then one last read ends it). */
  terminated: () => boolean;
  /**
   * Ends the follow of a container that runs on (a service once it is ready): the open request is dropped and one
   * last read, not following, delivers what the container wrote until then, so the lines just before are not lost.
   */
  finish?: AbortSignal;
  /** Resolves at the pod's next change (the caller's watch); used before following again after an empty stream. */
  nextChange: () => Promise<void>;
  /** Consecutive failed requests tolerated (default 5). */
  maxFailures?: number;
  /** Told about failed requests (debug). */
  onError?: (message: string) => void;
  /** The log's destination is behind (Logger.backlog): the stream pauses until it has caught up. */
  backlog?: () => Promise<void> | undefined;
}

/** `2024-01-02T03:04:05.123Z` -> a key that sorts by time, fractions padded to nanoseconds. */
function timeKey(ts: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return ts;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}`;
}

/** Opens one log request; resolves with the 200 response, rejects with the status and body otherwise. */
async function openLog(client: KubeClient, path: string, query: URLSearchParams, signal: AbortSignal): Promise<IncomingMessage> {
  const url = new URL(client.server.replace(/\/+$/, '') + path);
  url.search = query.toString();
  const opts = await client.connections.httpsOptions();
  return resendIfStale(() => sendLogRequest(client, url, opts, signal));
}

function sendLogRequest(client: KubeClient, url: URL, opts: https.RequestOptions, signal: AbortSignal): Promise<IncomingMessage> {
  client.countRequest('read logs of');
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { ...opts, method: 'GET', signal }, (res) => {
      if (res.statusCode === 200) {
        resolve(res);
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 300)}`)));
      res.on('error', reject);
    });
    req.on('error', (e: NodeJS.ErrnoException) => reject(requestFailure(req, e)));
    req.end();
  });
}

/**
 * Follows the container's log until it has terminated and every line was read, or until `signal` aborts.
 * Never rejects: failures (after `maxFailures` in a row) end the follow early, reported through `onError`.
 */
export async function followPodLog(opts: FollowLogOptions): Promise<void> {
  const { client, namespace, pod, container, signal } = opts;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`;
  const maxFailures = opts.maxFailures ?? 5;
  let lastKey: string | undefined;
  let lastTs: string | undefined;
  /** Lines delivered whose timestamp equals lastKey. */
  let atLast = 0;
  let failures = 0;

  for (;;) {
    if (signal.aborted) return;
    const finalRead = opts.terminated() || opts.finish?.aborted === true;
    // Following: `finish` cuts the request short (then the loop makes the final read). The final read runs to its end.
    const requestSignal = !finalRead && opts.finish ? AbortSignal.any([signal, opts.finish]) : signal;
    const query = new URLSearchParams({ container, timestamps: 'true', follow: String(!finalRead) });
    // sinceTime is RFC 3339 (whole seconds are accepted everywhere); lines before lastTs are skipped below.
    if (lastTs !== undefined) query.set('sinceTime', lastTs.replace(/\.\d+/, ''));
    let delivered = 0;
    // What this request repeats: lines before startKey, and the first skipAtStart lines at startKey.
    const startKey = lastKey;
    const skipAtStart = atLast;
    let seenAtStart = 0;
    const deliver = (raw: string) => {
      const space = raw.indexOf(' ');
      const ts = space > 0 ? raw.slice(0, space) : '';
      const text = space > 0 ? raw.slice(space + 1) : raw;
      const key = timeKey(ts);
      if (startKey !== undefined) {
        if (key < startKey) return;
        if (key === startKey && seenAtStart < skipAtStart) {
          seenAtStart++;
          return;
        }
      }
      if (key === lastKey) atLast++;
      else {
        lastKey = key;
        lastTs = ts;
        atLast = 1;
      }
      delivered++;
      opts.onLine(text);
    };
    try {
      const res = await openLog(client, path, query, requestSignal);
      res.setEncoding('utf8');
      // One splitter per request: a cut stream's partial line is dropped with it.
      const lines = new LogLineSplitter(deliver);
      await new Promise<void>((resolve, reject) => {
        res.on('data', (chunk: string) => {
          lines.push(chunk);
          // Without this, lines read faster than the output is read pile up in memory (a 100 MB log, a slow pipe).
          const behind = opts.backlog?.();
          if (behind && !res.isPaused()) {
            res.pause();
            void behind.then(() => res.resume());
          }
        });
        res.on('end', resolve);
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('the log stream was cut')));
      });
      // A last line without its newline is the log's end only in the final read. A follow can end cleanly mid-line (an
      // API server ends its response properly when its own stream from the kubelet breaks): delivered, that piece
      // would count as the line, and the next request, sending the line whole, would have it skipped as seen.
      if (finalRead) lines.end();
      failures = 0;
    } catch (e) {
      if (signal.aborted) return;
      if (!finalRead && opts.finish?.aborted) continue; // cut by `finish`: not a failure; the final read follows
      // A cut stream's partial line is dropped: the next request sends it again, whole.
      // A stream that delivered lines before it broke is a fresh failure, not one more in a row.
      failures = delivered > 0 ? 1 : failures + 1;
      opts.onError?.(`log of pod ${pod}: ${errorMessage(e)} (failure ${failures}/${maxFailures})`);
      if (failures >= maxFailures) {
        opts.onCutOff?.(`the log of pod ${pod} is cut off here: reading it failed ${failures} times in a row (kubectl logs may still show the rest)`);
        return;
      }
    }
    if (finalRead) {
      if (failures === 0) return;
      // The last read failed: try again at once (bounded by maxFailures); the pod will not change any more.
      continue;
    }
    if ((delivered === 0 || failures > 0) && !opts.terminated()) {
      // Nothing new (or a failure) while the container runs: ask again when the pod changes (it terminated, it started)
      // or after a back-off (a quiet stage whose stream a proxy cut), never in a tight loop.
      await waitAny(opts.finish ? AbortSignal.any([signal, opts.finish]) : signal, opts.nextChange(), RETRY_BASE_MS * 2 ** Math.min(failures, 3));
    }
  }
}

/** Delay before following again after an empty or failed stream: 1 s, doubling per failure in a row, at most 8 s. */
const RETRY_BASE_MS = 1000;

/** Resolves at `change`, after `ms`, or on abort, whichever comes first. */
async function waitAny(signal: AbortSignal, change: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  await Promise.race([
    change,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      onAbort = () => resolve();
      signal.addEventListener('abort', onAbort, { once: true });
    }),
  ]);
  clearTimeout(timer);
  if (onAbort) signal.removeEventListener('abort', onAbort);
}
