import { malformed } from "./errors.js";

/** Bytes a non-negative integer below 2^53 takes as a protobuf varint. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
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

/**
 * A cursor over bytes for the decoder. Varints above 2^53 are rejected as
 * malformed: nothing in the tunnel needs them.
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
