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

/**
 * Encodes a `FrameBatch` frame by frame, as a sender queues them: a frame's
 * bytes are written when it is added, so nothing is kept per frame or per
 * stream until the batch goes out (a fan-out adds one `data` frame for each
 * of thousands of streams every tick). `data` for the stream of the frame
 * just added joins that frame, so a stream sending many messages in a row
 * sends one frame.
 */
export class FrameBatchBuilder {
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  /** The last frame's stream when it is a `data` frame that more data may join; else -1. */
  private dataStream = -1;
  /** Where that frame's entry starts, and its body. */
  private dataStart = 0;
  private dataBody = 0;
  /** Capacity of the next batch's buffer: about the size of the last ones (halving after a small one). */
  private sizeHint = 256;

  /** True when nothing was added since the last {@link take}. */
  get empty(): boolean {
    return this.pos === 0;
  }

  /** Adds a control frame. */
  add(frame: ControlFrame): void {
    this.dataStream = -1;
    const body = bodySize(frame);
    this.reserve(frameHeadSize(frame.streamId, body) + body);
    this.pos = writeBody(this.buf, writeFrameHead(this.buf, this.pos, frame.kind, frame.streamId, body), frame);
  }

  /** Adds `bytes` (whole envelopes) as `data` of `streamId`: copied now, so the caller may reuse them. */
  data(streamId: number, bytes: Uint8Array): void {
    if (streamId === this.dataStream) {
      this.extendData(bytes);
      return;
    }
    const head = frameHeadSize(streamId, bytes.length);
    this.reserve(head + bytes.length);
    this.dataStream = streamId;
    this.dataStart = this.pos;
    this.dataBody = bytes.length;
    const pos = writeFrameHead(this.buf, this.pos, "data", streamId, bytes.length);
    this.buf.set(bytes, pos);
    this.pos = pos + bytes.length;
  }

  /** The batch so far, as one message; the builder starts a new one. */
  take(): Uint8Array {
    const { buf, pos } = this;
    this.sizeHint = Math.max(pos, this.sizeHint >> 1);
    this.buf = EMPTY;
    this.pos = 0;
    this.dataStream = -1;
    // A batch far smaller than its buffer is copied out, so the buffer's spare room is not kept while it is sent.
    return pos * 2 < buf.length ? buf.slice(0, pos) : buf.subarray(0, pos);
  }

  /** Adds `bytes` to the open `data` frame: its head is rewritten for the new length, the body moved if the head grew. */
  private extendData(bytes: Uint8Array): void {
    const { dataStream, dataStart } = this;
    const oldHead = frameHeadSize(dataStream, this.dataBody);
    const body = this.dataBody + bytes.length;
    const head = frameHeadSize(dataStream, body);
    this.reserve(head - oldHead + bytes.length);
    const buf = this.buf;
    if (head !== oldHead) buf.copyWithin(dataStart + head, dataStart + oldHead, this.pos);
    writeFrameHead(buf, dataStart, "data", dataStream, body);
    this.pos += head - oldHead;
    buf.set(bytes, this.pos);
    this.pos += bytes.length;
    this.dataBody = body;
  }

  /** Makes room for `bytes` more. */
  private reserve(bytes: number): void {
    const need = this.pos + bytes;
    if (need <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(need, this.buf.length * 2, this.sizeHint, 256));
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
