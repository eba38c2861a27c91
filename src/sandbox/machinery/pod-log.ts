/**
 * The pod log request, as both ends serve it: the API server's pods/log (with an in-process log source) and the
 * kubelet's /containerLogs, which upstream parse the same way (K pkg/apis/core/v1 PodLogOptions conversion).
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { PodLogOptions } from '../types.js';

/** A boolean query parameter as Go's strconv.ParseBool reads it; absent or unreadable: false. */
function queryBool(q: URLSearchParams, name: string): boolean {
  return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(q.get(name) ?? '');
}

/** PodLogOptions from a pods/log or /containerLogs query. */
export function logOptionsFromQuery(q: URLSearchParams, container?: string): PodLogOptions {
  const lo: PodLogOptions = { follow: queryBool(q, 'follow'), previous: queryBool(q, 'previous'), timestamps: queryBool(q, 'timestamps') };
  if (container) lo.container = container;
  for (const n of ['tailLines', 'sinceSeconds', 'limitBytes'] as const) {
    const v = q.get(n);
    if (v !== null && v !== '') lo[n] = Number(v);
  }
  if (q.get('sinceTime')) lo.sinceTime = q.get('sinceTime')!;
  return lo;
}

/**
 * Streams a log to the response as upstream does (chunked text, headers at once so a follow starts), ending with it.
 * Piped: a client that reads slowly slows the reading of the file, rather than the rest queueing in memory.
 */
export function streamLog(res: ServerResponse, stream: Readable): void {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  stream.pipe(res);
  stream.on('error', () => res.end());
  res.on('close', () => stream.destroy());
}
