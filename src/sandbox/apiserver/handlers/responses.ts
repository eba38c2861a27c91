/** Response writing: JSON bodies, Status failures (meta/v1 Status, with Retry-After), plain text. */
import type { ServerResponse } from 'node:http';
import type { StatusError } from '../../machinery/errors.js';

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

export function sendStatus(res: ServerResponse, e: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };
  if (e.details?.retryAfterSeconds) headers['Retry-After'] = e.details.retryAfterSeconds;
  const data = JSON.stringify(e.toStatus());
  headers['Content-Length'] = Buffer.byteLength(data);
  res.writeHead(e.code, headers);
  res.end(data);
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
