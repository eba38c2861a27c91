/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies into the object's JSON form, so that the server
 * continues as for a JSON body. AM pkg/runtime/serializer/protobuf/protobuf.go: the 4-byte magic `k8s\0`, then a
 * runtime.Unknown {typeMeta (1): {apiVersion (1), kind (2)}, raw (2): the object's message, contentEncoding (3),
 * contentType (4)}.
 *
 * The JSON produced is what Go's JSON encoding of the struct the real server decodes would hold, for the fields on the
 * wire: Go's protobuf encoding writes every non-pointer field, zero or not, so a zero scalar of an `omitempty` non-pointer
 * field is dropped, a pointer field keeps its zero (`replicas: 0`), a non-pointer struct stays (`strategy: {}`) and a
 * zero Time is `null` (or dropped when `omitzero`). Fields absent from the wire are absent from the JSON.
 *
 * Nothing is silently dropped: a field number the schema does not know, a wire type that does not fit the field, a field
 * of a type the sandbox does not decode or an int64 beyond what a JSON number holds exactly is a ProtobufError.
 */
import { badRequest } from '../../machinery/errors.js';
import { GROUP_PACKAGES, TOP_LEVEL_MESSAGES, UNVERSIONED_KINDS, messageSpec, type FieldSpec, type MessageSpec } from './schema.js';
import { decodeSpecial } from './special.js';
import { ProtobufError, Reader, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, at, readFields, wireName } from './wire.js';

export { ProtobufError } from './wire.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
/** `k8s\0` */
export const PROTOBUF_MAGIC: readonly number[] = [0x6b, 0x38, 0x73, 0x00];

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

const SCALAR_WIRE: Readonly<Record<string, number>> = {
  string: WIRE_BYTES,
  bytes: WIRE_BYTES,
  bool: WIRE_VARINT,
  int32: WIRE_VARINT,
  int64: WIRE_VARINT,
  uint32: WIRE_VARINT,
  uint64: WIRE_VARINT,
  sint32: WIRE_VARINT,
  sint64: WIRE_VARINT,
  fixed32: WIRE_FIXED32,
  sfixed32: WIRE_FIXED32,
  float: WIRE_FIXED32,
  fixed64: WIRE_FIXED64,
  sfixed64: WIRE_FIXED64,
  double: WIRE_FIXED64,
};

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** Sets an own property (a map key `__proto__` must not reach the prototype). */
function setOwn(obj: JsonObject, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function safeNumber(v: bigint, path: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ProtobufError(`integer ${v}${at(path)} is beyond what a JSON number holds exactly (2^53)`);
  }
  return Number(v);
}

function finite(v: number, path: string): number {
  if (!Number.isFinite(v)) throw new ProtobufError(`unsupported value ${v}${at(path)}: JSON has no NaN or infinities`);
  return v;
}

function readScalar(type: string, r: Reader, path: string): Json {
  switch (type) {
    case 'string':
      return r.string();
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'bool':
      return r.bool();
    case 'int32':
      return r.int32();
    case 'uint32':
      return r.uint32();
    case 'sint32':
      return r.sint32();
    case 'fixed32':
      return r.fixed32();
    case 'sfixed32':
      return r.sfixed32();
    case 'int64':
      return safeNumber(r.int64(), path);
    case 'uint64':
      return safeNumber(r.uint64(), path);
    case 'sint64':
      return safeNumber(r.sint64(), path);
    case 'fixed64':
      return safeNumber(r.fixed64(), path);
    case 'sfixed64':
      return safeNumber(r.sfixed64(), path);
    case 'float':
      return finite(r.float(), path);
    case 'double':
      return finite(r.double(), path);
    default:
      throw new ProtobufError(`unknown scalar type ${type}${at(path)}`);
  }
}

function isZeroScalar(v: Json): boolean {
  return v === '' || v === 0 || v === false;
}

function checkWire(msg: string, f: FieldSpec, wire: number, expected: number): void {
  if (wire !== expected) {
    throw new ProtobufError(`field ${f.num} (${f.json}) of message ${msg} is ${wireName(expected)}, got ${wireName(wire)}`);
  }
}

function valueWire(f: FieldSpec): number {
  return f.kind === 'scalar' ? SCALAR_WIRE[f.type] : WIRE_BYTES;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** A field's value when it is a message or special type (`bytes` its encoding). */
function decodeComposite(f: FieldSpec, bytes: Uint8Array, path: string): Json {
  if (f.kind === 'special') return decodeSpecial(f.type, bytes, path);
  const spec = messageSpec(f.type);
  if (!spec) throw new ProtobufError(`no schema for message ${f.type}${at(path)}`);
  return decodeMessage(spec, bytes, path);
}

/** Decodes one message of the schema. `path` (JSON field path) is for error messages. */
export function decodeMessage(spec: MessageSpec, buf: Uint8Array, path = ''): JsonObject {
  const r = new Reader(buf);
  const scalars = new Map<FieldSpec, Json>();
  // Singular message fields merge when repeated on the wire (proto semantics): decoding the concatenation does that.
  const chunks = new Map<FieldSpec, Uint8Array[]>();
  const lists = new Map<FieldSpec, Json[]>();
  const maps = new Map<FieldSpec, JsonObject>();
  while (!r.done) {
    const { num, wire } = r.tag();
    const f = spec.byNumber.get(num);
    if (!f) throw new ProtobufError(`unknown field number ${num} (${wireName(wire)}) in message ${spec.name}${at(path)}`);
    const fpath = f.inline ? path : join(path, f.json);
    if (f.kind === 'unsupported') {
      throw new ProtobufError(`field ${num} (${f.json}) of message ${spec.name}${at(path)} has type ${f.type}, which this API server does not decode`);
    }
    if (f.map) {
      checkWire(spec.name, f, wire, WIRE_BYTES);
      let m = maps.get(f);
      if (!m) maps.set(f, (m = {}));
      const [key, value] = decodeMapEntry(spec.name, f, r.bytes(), fpath);
      setOwn(m, key, value);
      continue;
    }
    const expected = valueWire(f);
    if (f.repeated) {
      let list = lists.get(f);
      if (!list) lists.set(f, (list = []));
      if (f.kind === 'scalar' && expected !== WIRE_BYTES && wire === WIRE_BYTES) {
        // packed
        const packed = new Reader(r.bytes());
        while (!packed.done) list.push(readScalar(f.type, packed, `${fpath}[${list.length}]`));
        continue;
      }
      checkWire(spec.name, f, wire, expected);
      const ipath = `${fpath}[${list.length}]`;
      list.push(f.kind === 'scalar' ? readScalar(f.type, r, ipath) : decodeComposite(f, r.bytes(), ipath));
      continue;
    }
    checkWire(spec.name, f, wire, expected);
    if (f.kind === 'scalar') {
      scalars.set(f, readScalar(f.type, r, fpath));
    } else {
      let c = chunks.get(f);
      if (!c) chunks.set(f, (c = []));
      c.push(r.bytes());
    }
  }

  const out: JsonObject = {};
  for (const f of spec.fields) {
    const fpath = f.inline ? path : join(path, f.json);
    if (f.map) {
      const m = maps.get(f);
      if (m) setOwn(out, f.json, m);
    } else if (f.repeated) {
      const list = lists.get(f);
      if (list) setOwn(out, f.json, list);
    } else if (f.kind === 'scalar') {
      if (!scalars.has(f)) continue;
      const v = scalars.get(f)!;
      if (!f.pointer && f.omitEmpty && isZeroScalar(v)) continue;
      setOwn(out, f.json, v);
    } else {
      const c = chunks.get(f);
      if (!c) continue;
      const v = decodeComposite(f, concat(c), fpath);
      if (f.inline) {
        for (const [k, x] of Object.entries(v as JsonObject)) setOwn(out, k, x);
      } else if (!(v === null && f.omitZero)) {
        setOwn(out, f.json, v);
      }
    }
  }
  return out;
}

/** A map entry message {key = 1, value = 2}; an absent key or value is the type's zero value. */
function decodeMapEntry(msg: string, f: FieldSpec, buf: Uint8Array, path: string): [string, Json] {
  const r = new Reader(buf);
  let key = '';
  let value: Json | undefined;
  let composite: Uint8Array[] | undefined;
  while (!r.done) {
    const { num, wire } = r.tag();
    if (num === 1) {
      if (wire !== WIRE_BYTES) throw new ProtobufError(`key of map field ${f.num} (${f.json}) of message ${msg} is ${wireName(WIRE_BYTES)}, got ${wireName(wire)}`);
      key = r.string();
    } else if (num === 2) {
      const expected = valueWire(f);
      if (wire !== expected) {
        throw new ProtobufError(`value of map field ${f.num} (${f.json}) of message ${msg} is ${wireName(expected)}, got ${wireName(wire)}`);
      }
      if (f.kind === 'scalar') value = readScalar(f.type, r, path);
      else (composite ??= []).push(r.bytes());
    } else {
      throw new ProtobufError(`unknown field number ${num} (${wireName(wire)}) in an entry of map field ${f.num} (${f.json}) of message ${msg}${at(path)}`);
    }
  }
  const vpath = `${path}[${JSON.stringify(key)}]`;
  if (f.kind !== 'scalar') value = decodeComposite(f, composite ? concat(composite) : new Uint8Array(0), vpath);
  else if (value === undefined) value = f.type === 'string' || f.type === 'bytes' ? '' : f.type === 'bool' ? false : 0;
  return [key, value];
}

export interface DecodedBody {
  apiVersion: string;
  kind: string;
  /** The object with apiVersion and kind from the envelope. */
  object: JsonObject;
}

/** The message of a kind a body may carry, or undefined when it is not one the sandbox serves. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  if (Object.hasOwn(UNVERSIONED_KINDS, kind)) return UNVERSIONED_KINDS[kind];
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const pkg = Object.hasOwn(GROUP_PACKAGES, group) ? GROUP_PACKAGES[group] : undefined;
  if (!pkg || !version) return undefined;
  const name = `${pkg}.${version}.${kind}`;
  return TOP_LEVEL_MESSAGES.has(name) ? name : undefined;
}

/** A body that is no protobuf object of a known kind (reported as is, not as "cannot be handled as a <kind>"). */
export class ProtobufEnvelopeError extends ProtobufError {}

interface Envelope {
  apiVersion: string;
  kind: string;
  message: MessageSpec;
  raw: Uint8Array;
}

/** Reads the magic and the runtime.Unknown envelope. Throws ProtobufEnvelopeError. */
function readEnvelope(buf: Uint8Array): Envelope {
  if (buf.length === 0) throw new ProtobufEnvelopeError('empty data');
  if (buf.length < PROTOBUF_MAGIC.length || PROTOBUF_MAGIC.some((b, i) => buf[i] !== b)) {
    throw new ProtobufEnvelopeError(`provided data does not appear to be a protobuf message, expected prefix [${PROTOBUF_MAGIC.join(' ')}]`);
  }
  if (buf.length === PROTOBUF_MAGIC.length) throw new ProtobufEnvelopeError('empty body');
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array(0);
  let contentEncoding = '';
  try {
    readFields('runtime.Unknown', buf.subarray(PROTOBUF_MAGIC.length), '', {
      1: [
        WIRE_BYTES,
        (r) =>
          readFields('runtime.TypeMeta', r.bytes(), 'typeMeta', {
            1: [WIRE_BYTES, (t) => (apiVersion = t.string())],
            2: [WIRE_BYTES, (t) => (kind = t.string())],
          }),
      ],
      2: [WIRE_BYTES, (r) => (raw = r.bytes())],
      3: [WIRE_BYTES, (r) => (contentEncoding = r.string())],
      4: [WIRE_BYTES, (r) => r.string()],
    });
  } catch (e) {
    throw new ProtobufEnvelopeError(`protobuf: ${(e as Error).message}`);
  }
  if (!kind) throw new ProtobufEnvelopeError("Object 'Kind' is missing in the protobuf envelope (runtime.Unknown typeMeta)");
  const name = messageForKind(apiVersion, kind);
  // The wording of runtime.NewNotRegisteredErrForKind.
  if (!name) throw new ProtobufEnvelopeError(`no kind "${kind}" is registered for version "${apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`);
  if (contentEncoding) {
    throw new ProtobufEnvelopeError(`protobuf: content encoding ${JSON.stringify(contentEncoding)} of the runtime.Unknown envelope is not supported`);
  }
  return { apiVersion, kind, message: messageSpec(name)!, raw };
}

/** Decodes a `k8s\0` + runtime.Unknown body into the object's JSON form. Throws ProtobufError. */
export function decodeKubernetesProtobuf(buf: Uint8Array): DecodedBody {
  const { apiVersion, kind, message, raw } = readEnvelope(buf);
  return { apiVersion, kind, object: { apiVersion, kind, ...decodeMessage(message, raw) } };
}

/**
 * The server's entry point: a protobuf request body as the JSON object it stands for. Errors are 400 BadRequest in
 * upstream's wording (AS pkg/endpoints/handlers/rest.go transformDecodeError).
 */
export function decodeProtobufObject(buf: Uint8Array): JsonObject {
  let env: Envelope;
  try {
    env = readEnvelope(buf);
  } catch (e) {
    throw e instanceof ProtobufError ? badRequest(e.message) : e;
  }
  const { apiVersion, kind, message, raw } = env;
  try {
    return { apiVersion, kind, ...decodeMessage(message, raw) };
  } catch (e) {
    if (!(e instanceof ProtobufError)) throw e;
    const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
    throw badRequest(`${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: protobuf: ${e.message}`);
  }
}
