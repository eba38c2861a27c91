/**
 * Decoding of the types with their own JSON form (schema.ts SPECIAL_TYPES), whose messages the schema table does not
 * hold: their few fields are read here.
 */
import type { Json } from './decode.js';
import { ProtobufError, WIRE_BYTES, WIRE_VARINT, at, readFields } from './wire.js';

/** Go's zero time.Time as Unix seconds (0001-01-01T00:00:00Z). */
const GO_ZERO_TIME_SECONDS = -62135596800n;

/**
 * Types with their own JSON form: metav1.Time (RFC 3339, whole seconds: Time.Unmarshal drops the nanoseconds),
 * metav1.MicroTime (RFC 3339 with microseconds), resource.Quantity (its string), intstr.IntOrString (number or string),
 * metav1.FieldsV1 (its raw JSON).
 */
export function decodeSpecial(type: string, buf: Uint8Array, path = ''): Json {
  switch (type) {
    case 'Time':
    case 'MicroTime': {
      if (buf.length === 0) return null; // Time.Marshal writes a zero time as no bytes
      let seconds = 0n;
      let nanos = 0;
      readFields(`meta.v1.${type}`, buf, path, {
        1: [WIRE_VARINT, (r) => (seconds = r.int64())],
        2: [WIRE_VARINT, (r) => (nanos = r.int32())],
      });
      return formatTime(seconds, type === 'MicroTime' ? nanos - (nanos % 1000) : 0, type === 'MicroTime', path);
    }
    case 'Quantity': {
      let s: string | undefined;
      readFields('resource.Quantity', buf, path, { 1: [WIRE_BYTES, (r) => (s = r.string())] });
      if (s === undefined) return '0';
      if (!/^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/.test(s)) {
        throw new ProtobufError(`quantity ${JSON.stringify(s)}${at(path)}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
      }
      return s;
    }
    case 'IntOrString': {
      let kind = 0n;
      let intVal = 0;
      let strVal = '';
      readFields('intstr.IntOrString', buf, path, {
        1: [WIRE_VARINT, (r) => (kind = r.int64())],
        2: [WIRE_VARINT, (r) => (intVal = r.int32())],
        3: [WIRE_BYTES, (r) => (strVal = r.string())],
      });
      if (kind === 0n) return intVal;
      if (kind === 1n) return strVal;
      throw new ProtobufError(`IntOrString${at(path)} has an impossible type ${kind}`);
    }
    case 'FieldsV1': {
      let raw: Uint8Array | undefined;
      readFields('meta.v1.FieldsV1', buf, path, { 1: [WIRE_BYTES, (r) => (raw = r.bytes())] });
      if (raw === undefined) return null;
      try {
        return JSON.parse(Buffer.from(raw).toString('utf8')) as Json;
      } catch {
        throw new ProtobufError(`FieldsV1${at(path)} does not hold JSON`);
      }
    }
    default:
      throw new ProtobufError(`no decoder for ${type}${at(path)}`);
  }
}

/** RFC 3339 in UTC as metav1.Time/MicroTime MarshalJSON writes it; Go's zero time is `null`. */
function formatTime(seconds: bigint, nanos: number, micro: boolean, path: string): string | null {
  // time.Unix normalises nanoseconds outside [0, 1e9)
  const total = seconds * 1_000_000_000n + BigInt(nanos);
  let sec = total / 1_000_000_000n;
  let ns = total % 1_000_000_000n;
  if (ns < 0n) {
    ns += 1_000_000_000n;
    sec -= 1n;
  }
  if (sec === GO_ZERO_TIME_SECONDS && ns === 0n) return null;
  const ms = Number(sec) * 1000;
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(ms) || Number.isNaN(d.getTime()) || year < 0 || year > 9999) {
    throw new ProtobufError(`time${at(path)} (${sec} seconds) is outside the years 0 to 9999`);
  }
  const base = d.toISOString().slice(0, 19);
  return micro ? `${base}.${String(Number(ns) / 1000).padStart(6, '0')}Z` : `${base}Z`;
}

