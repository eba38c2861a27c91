/**
 * A hand-rolled protobuf writer for the tests: field numbers are spelled out in each test from upstream's
 * generated.proto, independently of the decoder's schema table.
 */
export type Part = Uint8Array;

export function varint(v: number | bigint): Uint8Array {
  let x = BigInt.asUintN(64, BigInt(v)); // negatives: 64-bit two's complement (10 bytes), as Go writes int32/int64
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return Uint8Array.from(out);
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

export function tag(num: number, wire: number): Uint8Array {
  return varint((num << 3) | wire);
}

/** varint field (int32, int64, uint*, bool, enum). */
export function vi(num: number, v: number | bigint | boolean): Uint8Array {
  return cat(tag(num, 0), varint(typeof v === 'boolean' ? (v ? 1 : 0) : v));
}

/** zigzag varint field (sint32/sint64). */
export function zz(num: number, v: number | bigint): Uint8Array {
  const b = BigInt(v);
  return cat(tag(num, 0), varint(b >= 0n ? b << 1n : (-b << 1n) - 1n));
}

/** length-delimited field: string, bytes or an embedded message. */
export function ld(num: number, v: string | Uint8Array): Uint8Array {
  const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  return cat(tag(num, 2), varint(bytes.length), bytes);
}

/** embedded message field. */
export function msg(num: number, ...fields: Uint8Array[]): Uint8Array {
  return ld(num, cat(...fields));
}

/** map<string, …> entry: {key = 1, value = 2}. */
export function entry(num: number, key: string, value: Uint8Array | string): Uint8Array {
  return msg(num, ld(1, key), typeof value === 'string' ? ld(2, value) : ld(2, value));
}

export function fixed32(num: number, v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return cat(tag(num, 5), b);
}

export function fixed64(num: number, v: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return cat(tag(num, 1), b);
}

export function double(num: number, v: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return cat(tag(num, 1), b);
}

/** packed repeated varints. */
export function packed(num: number, values: (number | bigint)[]): Uint8Array {
  return ld(num, cat(...values.map((v) => varint(v))));
}

/** `k8s\0` + runtime.Unknown {typeMeta {apiVersion, kind}, raw}. */
export function k8s(apiVersion: string, kind: string, raw: Uint8Array, extra: Uint8Array = new Uint8Array(0)): Buffer {
  return Buffer.from(cat(Uint8Array.of(0x6b, 0x38, 0x73, 0), msg(1, ld(1, apiVersion), ld(2, kind)), ld(2, raw), extra));
}
