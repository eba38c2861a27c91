/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies (AM pkg/runtime/serializer/protobuf/protobuf.go):
 * the 4-byte magic `k8s\0`, then a runtime.Unknown {typeMeta, raw} whose `raw` is the object's message. The result is
 * the object's JSON form. Go's protobuf encoding writes non-pointer zero values (`""`, `0`, `false`) that the JSON
 * form omits; they are dropped here except for the pointer fields where an explicit zero means something.
 */
import { badRequest, unsupportedMediaType } from './errors.js';
import { PROTO_SCHEMA, type ProtoRow } from './protobuf-schema.js';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** Pointer fields (`*int32`, `*bool`, …) whose explicit zero is kept. */
const KEEP_ZERO = new Set([
  'replicas',
  'suspend',
  'parallelism',
  'completions',
  'backoffLimit',
  'backoffLimitPerIndex',
  'maxFailedIndexes',
  'activeDeadlineSeconds',
  'terminationGracePeriodSeconds',
  'ttlSecondsAfterFinished',
  'revisionHistoryLimit',
  'progressDeadlineSeconds',
  'automountServiceAccountToken',
  'enableServiceLinks',
  'immutable',
  'manualSelector',
  'deletionGracePeriodSeconds',
  'gracePeriodSeconds',
  'priority',
  'defaultMode',
  'mode',
  'optional',
  'shareProcessNamespace',
  'hostUsers',
  'runAsUser',
  'runAsGroup',
  'runAsNonRoot',
  'readOnlyRootFilesystem',
  'allowPrivilegeEscalation',
  'privileged',
  'orphanDependents',
  'setHostnameAsFQDN',
  'leaseDurationSeconds',
  'leaseTransitions',
  'controller',
  'blockOwnerDeletion',
]);

/** proto package (short) of a group. */
export const PACKAGES: Record<string, string> = {
  '': 'core.v1',
  apps: 'apps.v1',
  batch: 'batch.v1',
  'rbac.authorization.k8s.io': 'rbac.v1',
  'networking.k8s.io': 'networking.v1',
  'coordination.k8s.io': 'coordination.v1',
  'meta.k8s.io': 'apis.meta.v1',
};

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw badRequest('protobuf: unexpected end of data');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }
  bytes(): Uint8Array {
    const n = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  fixed(n: number): Uint8Array {
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw badRequest(`protobuf: unsupported wire type ${wire}`);
  }
}

function utf8(b: Uint8Array): string {
  return Buffer.from(b).toString('utf8');
}

function scalar(type: string, wire: number, r: Reader): unknown {
  switch (type) {
    case 'string':
      return utf8(r.bytes());
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'bool':
      return r.varint() !== 0n;
    case 'int32':
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint()));
    case 'uint32':
    case 'uint64':
      return Number(r.varint());
    case 'double':
      return Buffer.from(r.fixed(8)).readDoubleLE(0);
    case 'float':
      return Buffer.from(r.fixed(4)).readFloatLE(0);
    default:
      r.skip(wire);
      return undefined;
  }
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function rfc3339(seconds: number, nanos: number, micro: boolean): string | undefined {
  if (seconds <= -62135596800 || (seconds === 0 && nanos === 0)) return undefined; // Go's zero time: JSON null
  const d = new Date(seconds * 1000);
  const base = d.toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

function special(kind: string, b: Uint8Array): unknown {
  const r = new Reader(b);
  const f: Record<number, unknown> = {};
  while (!r.done) {
    const tag = Number(r.varint());
    const num = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) f[num] = Number(BigInt.asIntN(64, r.varint()));
    else if (wire === 2) f[num] = r.bytes();
    else r.skip(wire);
  }
  switch (kind) {
    case '@time':
    case '@microtime':
      return rfc3339(Number(f[1] ?? 0), Number(f[2] ?? 0), kind === '@microtime');
    case '@intstr':
      return Number(f[1] ?? 0) === 1 ? (f[3] ? utf8(f[3] as Uint8Array) : '') : Number(f[2] ?? 0);
    case '@quantity':
      return f[1] ? utf8(f[1] as Uint8Array) : '0';
    case '@fieldsv1':
    case '@raw': {
      if (!f[1]) return {};
      const text = utf8(f[1] as Uint8Array);
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }
    case '@duration':
      return `${Number(f[1] ?? 0) / 1e9}s`;
    default:
      return undefined;
  }
}

function decodeValue(type: string, wire: number, r: Reader): unknown {
  if (type.startsWith('@')) return special(type, r.bytes());
  if (PROTO_SCHEMA[type]) return decodeMessage(type, r.bytes());
  return scalar(type, wire, r);
}

export function decodeMessage(name: string, buf: Uint8Array): Record<string, unknown> {
  const rows = PROTO_SCHEMA[name];
  if (!rows) throw badRequest(`protobuf: no schema for ${name}`);
  const byNum = new Map<number, ProtoRow>(rows.map((x) => [x[0], x]));
  const out: Record<string, unknown> = {};
  const r = new Reader(buf);
  while (!r.done) {
    const tag = Number(r.varint());
    const num = tag >> 3;
    const wire = tag & 7;
    const row = byNum.get(num);
    if (!row) {
      r.skip(wire);
      continue;
    }
    const [, fname, type, flag, keyType] = row;
    if (type === '?') {
      r.skip(wire);
      continue;
    }
    if (flag === 0 && keyType) {
      // map entry: key = 1, value = 2
      const entry = new Reader(r.bytes());
      let k: unknown = '';
      let v: unknown = type === 'string' || type === 'bytes' ? '' : undefined;
      while (!entry.done) {
        const t = Number(entry.varint());
        if (t >> 3 === 1) k = scalar(keyType, t & 7, entry);
        else if (t >> 3 === 2) v = decodeValue(type, t & 7, entry);
        else entry.skip(t & 7);
      }
      const m = (out[fname] ??= {}) as Record<string, unknown>;
      m[String(k)] = v;
      continue;
    }
    if (flag === 1) {
      const list = (out[fname] ??= []) as unknown[];
      if (wire === 2 && !type.startsWith('@') && !PROTO_SCHEMA[type] && type !== 'string' && type !== 'bytes') {
        const packed = new Reader(r.bytes());
        while (!packed.done) list.push(scalar(type, type === 'double' ? 1 : type === 'float' ? 5 : 0, packed));
      } else list.push(decodeValue(type, wire, r));
      continue;
    }
    const v = decodeValue(type, wire, r);
    if (v === undefined || (isZero(v) && !KEEP_ZERO.has(fname))) continue;
    out[fname] = v;
  }
  return out;
}

/** Decodes a protobuf request body into the object's JSON form. */
export function decodeProtobufObject(buf: Buffer): Record<string, unknown> {
  if (buf.length < 4 || MAGIC.some((b, i) => buf[i] !== b)) throw badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  const unknown = decodeMessage('runtime.Unknown', buf.subarray(4));
  const tm = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = tm.apiVersion ?? '';
  const kind = tm.kind ?? '';
  if (unknown.contentEncoding) throw unsupportedMediaType(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const pkg = PACKAGES[group];
  const name = `${pkg}.${kind}`;
  if (!pkg || !PROTO_SCHEMA[name]) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}" in scheme "pkg/runtime/scheme.go:100"`);
  const raw = Buffer.from(String(unknown.raw ?? ''), 'base64');
  return { apiVersion, kind, ...decodeMessage(name, raw) };
}
