/**
 * Protobuf wire format reading (https://protobuf.dev/programming-guides/encoding/): varints, zigzag, fixed-width and
 * length-delimited values. Every malformed input (truncation, overlong varint, group wire types) is a ProtobufError.
 */

/** Go's protobuf decoding of `string` fields does not validate UTF-8; invalid sequences become U+FFFD here as in JSON. */
const utf8 = new TextDecoder('utf-8');

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export const WIRE_NAMES: Readonly<Record<number, string>> = {
  0: 'varint',
  1: 'fixed64',
  2: 'length-delimited',
  3: 'start-group',
  4: 'end-group',
  5: 'fixed32',
};

export interface Tag {
  num: number;
  wire: number;
}

export class Reader {
  pos = 0;
  readonly end: number;

  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned varint of up to 64 bits. */
  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError('unexpected end of data in a varint');
      const b = this.buf[this.pos++];
      if (i === 9 && b > 1) throw new ProtobufError('varint overflows 64 bits');
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return result;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  /** A varint as a JS number, for lengths and tags (at most 2^32 - 1). */
  smallVarint(what: string): number {
    const v = this.varint();
    if (v > 0xffffffffn) throw new ProtobufError(`${what} ${v} is out of range`);
    return Number(v);
  }

  tag(): Tag {
    const t = this.smallVarint('tag');
    const num = t >>> 3;
    const wire = t & 7;
    if (num === 0) throw new ProtobufError('invalid field number 0');
    return { num, wire };
  }

  /** int32: the varint's low 32 bits, two's complement (negative values are 10-byte varints on the wire). */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  uint32(): number {
    return Number(BigInt.asUintN(32, this.varint()));
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.varint());
  }

  uint64(): bigint {
    return this.varint();
  }

  sint32(): number {
    const v = Number(BigInt.asUintN(32, this.varint()));
    return (v >>> 1) ^ -(v & 1);
  }

  sint64(): bigint {
    const v = BigInt.asUintN(64, this.varint());
    return (v >> 1n) ^ -(v & 1n);
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  private take(n: number): Uint8Array {
    if (n > this.end - this.pos) throw new ProtobufError(`unexpected end of data: ${n} bytes needed, ${this.end - this.pos} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private view(n: number): DataView {
    const b = this.take(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  fixed32(): number {
    return this.view(4).getUint32(0, true);
  }

  sfixed32(): number {
    return this.view(4).getInt32(0, true);
  }

  fixed64(): bigint {
    return this.view(8).getBigUint64(0, true);
  }

  sfixed64(): bigint {
    return this.view(8).getBigInt64(0, true);
  }

  float(): number {
    return this.view(4).getFloat32(0, true);
  }

  double(): number {
    return this.view(8).getFloat64(0, true);
  }

  /** A length-delimited value. */
  bytes(): Uint8Array {
    return this.take(this.smallVarint('length'));
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** Skips a value of the given wire type. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.take(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.take(4);
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wire} (${WIRE_NAMES[wire] ?? 'invalid'})`);
    }
  }
}

/** A wire type as error messages name it. */
export function wireName(wire: number): string {
  return `wire type ${wire} (${WIRE_NAMES[wire] ?? 'invalid'})`;
}

/** ` at <path>` for error messages (nothing at the top level). */
export function at(path: string): string {
  return path ? ` at ${path}` : '';
}

/** Reads a small fixed-schema message (a special type, an envelope): field number -> [expected wire, reader]. */
export function readFields(name: string, buf: Uint8Array, path: string, fields: Record<number, [number, (r: Reader) => void]>): void {
  const r = new Reader(buf);
  while (!r.done) {
    const { num, wire } = r.tag();
    const f = fields[num];
    if (!f) throw new ProtobufError(`unknown field number ${num} (${wireName(wire)}) in message ${name}${at(path)}`);
    if (wire !== f[0]) throw new ProtobufError(`field ${num} of message ${name}${at(path)} is ${wireName(f[0])}, got ${wireName(wire)}`);
    f[1](r);
  }
}
