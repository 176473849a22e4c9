import { type ControlFrame, FRAME_FIELD, type Frame, type HeaderList } from "./frames.js";
import { utf8Length, writeUtf8 } from "./utf8.js";
import { uint64Size, varintSize, writeUint64, writeVarint } from "./varint.js";

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const BATCH_FRAMES_TAG = (1 << 3) | WIRE_LEN;
const STREAM_ID_TAG = (FRAME_FIELD.streamId << 3) | WIRE_VARINT;

/** Body sizes of the frames being encoded (one batch at a time: encoding never re-enters). */
const bodySizes: number[] = [];

/**
 * Encodes frames as one `FrameBatch`: the bytes of one WebSocket message.
 * Two passes, sizes then bytes, straight into the one buffer returned: data
 * chunks are copied exactly once and nothing else is allocated per batch.
 */
export function encodeFrameBatch(frames: readonly Frame[]): Uint8Array {
  const n = frames.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const frame = frames[i] as Frame;
    const body = bodySize(frame);
    bodySizes[i] = body;
    const length = frameLength(frame.streamId, body);
    total += 1 + varintSize(length) + length;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const frame = frames[i] as Frame;
    const body = bodySizes[i] as number;
    pos = writeFrameHead(out, pos, frame.kind, frame.streamId, body);
    pos = writeBody(out, pos, frame);
  }
  bodySizes.length = 0;
  return out;
}

/** Bytes of a `Frame` message: the stream id (omitted when 0) and the kind's field. */
function frameLength(streamId: number, body: number): number {
  return (streamId === 0 ? 0 : 1 + varintSize(streamId)) + 1 + varintSize(body) + body;
}

/** Bytes of a frame's entry in the batch before its body: tag and length of the entry, stream id, tag and length of the kind's field. */
function frameHeadSize(streamId: number, body: number): number {
  const length = frameLength(streamId, body);
  return 1 + varintSize(length) + length - body;
}

/** Writes a frame's entry in the batch up to its body (which `body` bytes long follows). */
function writeFrameHead(out: Uint8Array, pos: number, kind: Frame["kind"], streamId: number, body: number): number {
  out[pos++] = BATCH_FRAMES_TAG;
  pos = writeVarint(out, pos, frameLength(streamId, body));
  if (streamId !== 0) {
    out[pos++] = STREAM_ID_TAG;
    pos = writeVarint(out, pos, streamId);
  }
  out[pos++] = (FRAME_FIELD[kind] << 3) | WIRE_LEN;
  return writeVarint(out, pos, body);
}

const EMPTY = new Uint8Array(0);
const MIN_CAPACITY = 256;

/** How many of the latest `data` frames stay open to more data of their stream (a power of two: a ring). */
const OPEN_FRAMES = 8;
const RING = OPEN_FRAMES - 1;
/** Most bytes moved to let an open frame that is not the last one grow: past it, the stream starts a new frame. */
const MAX_MOVE = 1024;

/**
 * Encodes a `FrameBatch` frame by frame, as a sender queues them: a frame's
 * bytes are written when it is added, so nothing is kept per frame or per
 * stream until the batch goes out (a fan-out adds one `data` frame for each
 * of thousands of streams every tick). `data` for a stream whose frame is
 * among the last few joins that frame (PROTOCOL.md §1.4: envelopes ready
 * together share one), also when other streams' frames came after it, as
 * long as no more than a kilobyte has to move for it.
 */
export class FrameBatchBuilder {
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  /**
   * The open `data` frames, a ring from `openFirst`, oldest first: stream,
   * where the frame's entry starts, its body's length.
   */
  private readonly openStream: number[] = new Array<number>(OPEN_FRAMES).fill(0);
  private readonly openStart: number[] = new Array<number>(OPEN_FRAMES).fill(0);
  private readonly openBody: number[] = new Array<number>(OPEN_FRAMES).fill(0);
  private openFirst = 0;
  private openCount = 0;
  /** Capacity of the next batch's first buffer: a little over the last batch, halving after smaller ones. */
  private sizeHint = MIN_CAPACITY;

  /** True when nothing was added since the last {@link take}. */
  get empty(): boolean {
    return this.pos === 0;
  }

  /** Adds a control frame. Data of its stream that follows goes after it, in a new frame. */
  add(frame: ControlFrame): void {
    if (frame.streamId !== 0) this.close(this.openIndex(frame.streamId));
    const body = bodySize(frame);
    this.reserve(frameHeadSize(frame.streamId, body) + body);
    this.pos = writeBody(this.buf, writeFrameHead(this.buf, this.pos, frame.kind, frame.streamId, body), frame);
  }

  /** Adds `bytes` (whole envelopes) as `data` of `streamId`: copied now, so the caller may reuse them. */
  data(streamId: number, bytes: Uint8Array): void {
    const i = this.openIndex(streamId);
    if (i >= 0 && this.join(i, bytes)) return;
    this.close(i);
    const head = frameHeadSize(streamId, bytes.length);
    this.reserve(head + bytes.length);
    if (this.openCount === OPEN_FRAMES) {
      this.openFirst = (this.openFirst + 1) & RING;
      this.openCount--;
    }
    const n = (this.openFirst + this.openCount++) & RING;
    this.openStream[n] = streamId;
    this.openStart[n] = this.pos;
    this.openBody[n] = bytes.length;
    const pos = writeFrameHead(this.buf, this.pos, "data", streamId, bytes.length);
    this.buf.set(bytes, pos);
    this.pos = pos + bytes.length;
  }

  /** The batch so far, as one message; the builder starts a new one. */
  take(): Uint8Array {
    const { buf, pos } = this;
    this.sizeHint = Math.max(MIN_CAPACITY, pos + (pos >> 3), this.sizeHint >> 1);
    this.buf = EMPTY;
    this.pos = 0;
    this.openFirst = 0;
    this.openCount = 0;
    // A batch well under its buffer is copied out: a socket's queue counts the batch's bytes, and must not
    // keep much more memory than that alive while it is sent.
    return pos < buf.length * 0.75 ? buf.slice(0, pos) : buf.subarray(0, pos);
  }

  /** The place in the ring of `streamId`'s open frame, or -1. The latest frames are the likeliest: searched from the newest. */
  private openIndex(streamId: number): number {
    for (let k = this.openCount - 1; k >= 0; k--) {
      const i = (this.openFirst + k) & RING;
      if (this.openStream[i] === streamId) return i;
    }
    return -1;
  }

  /** Ends the open frame at ring place `i` (none when -1): later data of its stream starts a new frame. */
  private close(i: number): void {
    if (i < 0) return;
    // The newer frames move down one place.
    const last = (this.openFirst + this.openCount - 1) & RING;
    for (let j = i; j !== last; j = (j + 1) & RING) {
      const next = (j + 1) & RING;
      this.openStream[j] = this.openStream[next] as number;
      this.openStart[j] = this.openStart[next] as number;
      this.openBody[j] = this.openBody[next] as number;
    }
    this.openCount--;
  }

  /**
   * Adds `bytes` to the open frame at ring place `i`: what follows the frame moves up, the
   * frame's head is rewritten for its new length (its body moves too when
   * the head grew). False, and nothing done, when more than
   * {@link MAX_MOVE} bytes would move.
   */
  private join(i: number, bytes: Uint8Array): boolean {
    const streamId = this.openStream[i] as number;
    const start = this.openStart[i] as number;
    const oldBody = this.openBody[i] as number;
    const oldHead = frameHeadSize(streamId, oldBody);
    const end = start + oldHead + oldBody;
    if (this.pos - end > MAX_MOVE) return false;
    const body = oldBody + bytes.length;
    const head = frameHeadSize(streamId, body);
    const grow = head - oldHead + bytes.length;
    this.reserve(grow);
    const buf = this.buf;
    if (end < this.pos) buf.copyWithin(end + grow, end, this.pos);
    if (head !== oldHead) buf.copyWithin(start + head, start + oldHead, end);
    writeFrameHead(buf, start, "data", streamId, body);
    buf.set(bytes, start + head + oldBody);
    this.pos += grow;
    this.openBody[i] = body;
    const last = (this.openFirst + this.openCount - 1) & RING;
    for (let j = i; j !== last;) {
      j = (j + 1) & RING;
      this.openStart[j] = (this.openStart[j] as number) + grow;
    }
    return true;
  }

  /** Makes room for `bytes` more. */
  private reserve(bytes: number): void {
    const need = this.pos + bytes;
    if (need <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(need, Math.ceil(this.buf.length * 1.5), this.sizeHint));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }
}

/** Bytes of the kind's message (of the data for `data`). */
function bodySize(frame: Frame): number {
  switch (frame.kind) {
    case "data": {
      let size = 0;
      for (const chunk of frame.chunks) size += chunk.length;
      return size;
    }
    case "hello":
    case "headers":
      return headersSize(frame.headers);
    case "open":
      return stringSize(frame.path) + headersSize(frame.headers) + varintFieldSize(frame.initialWindow);
    case "halfClose":
    case "cancel":
      return 0;
    case "end": {
      let size = varintFieldSize(frame.code) + stringSize(frame.message) + headersSize(frame.trailers);
      for (const d of frame.details) size += entrySize(detailSize(d.type, d.value));
      return size;
    }
    case "windowUpdate":
      return varintFieldSize(frame.bytes);
    case "ping":
    case "pong":
      return frame.payload === 0 || frame.payload === 0n ? 0 : 1 + uint64Size(frame.payload);
    case "goAway":
      return varintFieldSize(frame.lastStreamId) + stringSize(frame.message);
  }
}

function writeBody(out: Uint8Array, pos: number, frame: Frame): number {
  switch (frame.kind) {
    case "data":
      for (const chunk of frame.chunks) {
        out.set(chunk, pos);
        pos += chunk.length;
      }
      return pos;
    case "hello":
    case "headers":
      return writeHeaders(out, pos, 1, frame.headers);
    case "open":
      pos = writeString(out, pos, 1, frame.path);
      pos = writeHeaders(out, pos, 2, frame.headers);
      return writeVarintField(out, pos, 3, frame.initialWindow);
    case "halfClose":
    case "cancel":
      return pos;
    case "end":
      return writeEnd(out, pos, frame);
    case "windowUpdate":
      return writeVarintField(out, pos, 1, frame.bytes);
    case "ping":
    case "pong":
      if (frame.payload === 0 || frame.payload === 0n) return pos;
      out[pos++] = (1 << 3) | WIRE_VARINT;
      return writeUint64(out, pos, frame.payload);
    case "goAway":
      pos = writeVarintField(out, pos, 1, frame.lastStreamId);
      return writeString(out, pos, 2, frame.message);
  }
}

function writeEnd(out: Uint8Array, pos: number, frame: ControlFrame & { kind: "end" }): number {
  pos = writeVarintField(out, pos, 1, frame.code);
  pos = writeString(out, pos, 2, frame.message);
  for (const d of frame.details) {
    out[pos++] = (3 << 3) | WIRE_LEN;
    pos = writeVarint(out, pos, detailSize(d.type, d.value));
    pos = writeString(out, pos, 1, d.type);
    if (d.value.length > 0) {
      out[pos++] = (2 << 3) | WIRE_LEN;
      pos = writeVarint(out, pos, d.value.length);
      out.set(d.value, pos);
      pos += d.value.length;
    }
  }
  return writeHeaders(out, pos, 4, frame.trailers);
}

// Sizes. Field numbers are all below 16, so every tag is one byte; proto3
// leaves out scalars with their default value, never sub-messages.

function varintFieldSize(value: number): number {
  return value === 0 ? 0 : 1 + varintSize(value);
}

function stringSize(value: string): number {
  if (value.length === 0) return 0;
  const length = utf8Length(value);
  return 1 + varintSize(length) + length;
}

/** A sub-message entry of a repeated field: tag, length, body. */
function entrySize(body: number): number {
  return 1 + varintSize(body) + body;
}

function headersSize(headers: HeaderList): number {
  let size = 0;
  for (const [name, value] of headers) size += entrySize(stringSize(name) + stringSize(value));
  return size;
}

function detailSize(type: string, value: Uint8Array): number {
  return stringSize(type) + (value.length === 0 ? 0 : 1 + varintSize(value.length) + value.length);
}

// Writers: each returns the position after what it wrote.

function writeVarintField(out: Uint8Array, pos: number, field: number, value: number): number {
  if (value === 0) return pos;
  out[pos++] = (field << 3) | WIRE_VARINT;
  return writeVarint(out, pos, value);
}

function writeString(out: Uint8Array, pos: number, field: number, value: string): number {
  if (value.length === 0) return pos;
  out[pos++] = (field << 3) | WIRE_LEN;
  pos = writeVarint(out, pos, utf8Length(value));
  return writeUtf8(out, pos, value);
}

function writeHeaders(out: Uint8Array, pos: number, field: number, headers: HeaderList): number {
  for (const [name, value] of headers) {
    out[pos++] = (field << 3) | WIRE_LEN;
    pos = writeVarint(out, pos, stringSize(name) + stringSize(value));
    pos = writeString(out, pos, 1, name);
    pos = writeString(out, pos, 2, value);
  }
  return pos;
}
