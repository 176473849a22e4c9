import { malformed } from "./errors.js";

/**
 * A protobuf `uint64` as the codec holds it (ping and pong payloads): a
 * number below 2^53, a bigint from 2^53 to 2^64 − 1, so every value
 * round-trips exactly and the common small ones cost no bigint.
 */
export type Uint64 = number | bigint;

const MAX_UINT64 = 2n ** 64n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Bytes a non-negative integer below 2^53 takes as a protobuf varint. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 5;
  for (value = Math.floor(value / 0x800000000); value >= 1; value = Math.floor(value / 128)) size++;
  return size;
}

/** Writes `value` (0 ≤ value < 2^53) at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

/** Bytes a {@link Uint64} (0 ≤ value ≤ 2^64 − 1) takes as a varint. */
export function uint64Size(value: Uint64): number {
  if (typeof value === "number") return varintSize(value);
  let size = 1;
  for (let v = value; v >= 0x80n; v >>= 7n) size++;
  return size;
}

/** Writes a {@link Uint64} (0 ≤ value ≤ 2^64 − 1) at `pos`; returns the position after it. */
export function writeUint64(buf: Uint8Array, pos: number, value: Uint64): number {
  if (typeof value === "number") return writeVarint(buf, pos, value);
  let v = value;
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

/**
 * A cursor over bytes for the decoder. `varint()` reads the integer fields
 * held as numbers (ids, lengths, windows, codes) and rejects values above
 * 2^53 − 1 as malformed; `uint64()` reads the one `uint64` field (ping and
 * pong payloads) in full.
 */
export class ByteReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    const buf = this.buf;
    let b = this.byte();
    if (b < 0x80) return b; // the common case: one byte
    let value = b & 0x7f;
    let scale = 128;
    for (let i = 1; i < 8; i++) {
      b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) break;
        return value;
      }
      scale *= 128;
    }
    throw malformed(`varint too long at byte ${this.pos} of ${buf.length}`);
  }

  /**
   * Reads a `uint64` varint: the full range, up to 10 bytes; a value above
   * 2^64 − 1 (a tenth byte over 1) is malformed.
   */
  uint64(): Uint64 {
    const start = this.pos;
    let b = this.byte();
    if (b < 0x80) return b;
    // Seven bytes carry 49 bits: exact in a double.
    let value = b & 0x7f;
    let scale = 128;
    for (let i = 1; i < 7; i++) {
      b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    let big = BigInt(value);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      b = this.byte();
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        if (big > MAX_UINT64) throw malformed(`varint above 2^64 − 1 at byte ${start}`);
        return big <= MAX_SAFE ? Number(big) : big;
      }
    }
    throw malformed(`varint longer than 10 bytes at byte ${start}`);
  }

  /** Skips a varint of any size (up to the protobuf maximum of 10 bytes) without reading its value. */
  skipVarint(): void {
    for (let i = 0; i < 10; i++) {
      if (this.byte() < 0x80) return;
    }
    throw malformed(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** Reads a length prefix and returns the [start, end) range it covers, moving past it. */
  lengthDelimited(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    const end = start + length;
    if (end > this.end) throw malformed(`length ${length} at byte ${start} runs past the end (${this.end})`);
    this.pos = end;
    return [start, end];
  }

  /** Skips a field of an unknown number, so newer peers can add fields. */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.skipVarint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.lengthDelimited();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw malformed(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw malformed(`field runs past the end at byte ${this.pos}`);
    this.pos += n;
  }

  private byte(): number {
    if (this.pos >= this.end) throw malformed(`truncated varint at byte ${this.pos}`);
    return this.buf[this.pos++] as number;
  }
}
