/** Request decoding (AS pkg/endpoints/handlers/rest.go, create.go, delete.go): bodies, media types and query parameters. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { DeleteOptions, PatchType, ResourceType } from '../../types.js';
import { StatusError, badRequest, field, invalid, unsupportedMediaType } from '../../machinery/errors.js';
import { unknownFields } from '../openapi.js';
import { decodeProtobufObject } from '../protobuf/decode.js';
import { apiVersionOf } from '../resources.js';
import type { IncludeObject } from '../tables.js';

export const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};
export const PATCH_MEDIA = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
const BODY_MEDIA = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const MAX_BODY = 3 * 1024 * 1024;

export class HttpError extends Error {}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new StatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** Decodes a JSON or YAML object body (create/update). */
export function decodeObject(buf: Buffer, media: string, accepted = BODY_MEDIA): any {
  if (media && !accepted.includes(media)) throw unsupportedMediaType(accepted);
  if (media === 'application/vnd.kubernetes.protobuf') return decodeProtobufObject(buf);
  const text = buf.toString('utf8');
  if (!text.trim()) throw badRequest('Object \'Kind\' is missing in \'\'');
  try {
    return media === 'application/yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw badRequest(`the object provided is unrecognized: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The body's apiVersion/kind must be the endpoint's (AS handlers/create.go, update.go). */
export function checkKind(r: ResourceType, body: any): void {
  const want = apiVersionOf(r);
  if (body?.apiVersion && body.apiVersion !== want) {
    throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${want})`);
  }
  if (body?.kind && body.kind !== r.kind) {
    throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${r.kind})`);
  }
}

export function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/**
 * fieldValidation (Strict | Warn | Ignore; Warn when unset): unknown fields fail the request (400) or come back as
 * Warning headers. See openapi.ts.
 */
export function checkFields(res: ServerResponse, q: URLSearchParams, r: ResourceType, body: unknown): void {
  const mode = q.get('fieldValidation') ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(mode)) {
    throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(mode)}: supported values: "Ignore", "Strict", "Warn"`);
  }
  if (mode === 'Ignore') return;
  const unknown = unknownFields(body, r).map((f) => `unknown field ${JSON.stringify(f)}`);
  if (!unknown.length) return;
  if (mode === 'Strict') throw badRequest(`strict decoding error: ${unknown.join(', ')}`);
  res.setHeader(
    'Warning',
    unknown.map((u) => `299 - ${JSON.stringify(u)}`),
  );
}

export function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return v === 'true' || v === '1' || v === '';
}

export function dryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  if (!v.length) return false;
  for (const x of v) {
    if (x !== 'All') throw invalid({ group: 'meta.k8s.io', kind: 'CreateOptions' }, '', [field.notSupported('dryRun', x, ['All'])]);
  }
  return true;
}

/** managerOrUserAgent (AS handlers/create.go): the fieldManager, else the User-Agent up to its first '/'. */
export function manager(req: IncomingMessage, q: URLSearchParams): string {
  const m = q.get('fieldManager');
  if (m) return m;
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0].slice(0, 128) || 'unknown';
}

/** DeleteOptions from the body (JSON, any media type) and the query. */
export async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const buf = await readBody(req);
  const body: any = buf.length && buf.toString('utf8').trim() ? decodeObject(buf, mediaType(req) || 'application/json') : {};
  const d: DeleteOptions = {};
  const policy = body.propagationPolicy ?? q.get('propagationPolicy') ?? undefined;
  const orphan = body.orphanDependents ?? boolParam(q, 'orphanDependents');
  if (policy !== undefined) {
    if (!['Background', 'Foreground', 'Orphan'].includes(policy)) {
      throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [field.notSupported('propagationPolicy', policy, ['Foreground', 'Background', 'Orphan', 'nil'])]);
    }
    if (orphan !== undefined) {
      throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [field.invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set')]);
    }
    d.propagationPolicy = policy;
  } else if (orphan !== undefined) d.propagationPolicy = orphan ? 'Orphan' : 'Background';
  const grace = body.gracePeriodSeconds ?? (q.get('gracePeriodSeconds') !== null ? Number(q.get('gracePeriodSeconds')) : undefined);
  if (grace !== undefined) d.gracePeriodSeconds = Number(grace);
  if (body.preconditions) d.preconditions = body.preconditions;
  if ((Array.isArray(body.dryRun) && body.dryRun.includes('All')) || dryRun(q)) d.dryRun = true;
  return d;
}
