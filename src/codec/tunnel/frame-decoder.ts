import { malformed } from "./errors.js";
import { type ControlFrame, type ErrorDetailField, FRAME_FIELD } from "./frames.js";
import { ByteReader, type Uint64 } from "./varint.js";

/** Receives the frames of a batch in order. */
export interface FrameSink {
  /** A data frame: its payload is `buf[start, end)`, a range of the message itself (no copy). */
  data(streamId: number, buf: Uint8Array, start: number, end: number): void;
  /** Any other frame of a kind this version knows, decoded into a value. */
  control(frame: ControlFrame): void;
}

const utf8 = new TextDecoder();
const MAX_STREAM_ID = 0xffff_ffff;

/**
 * Decodes one WebSocket message (a `FrameBatch`) in a single pass, handing
 * each frame to `sink` as soon as it is read. Unknown fields and unknown
 * frame kinds are skipped, so peers can extend the protocol.
 * @throws TunnelProtocolError (`malformed_frame`) when the bytes are not a FrameBatch.
 */
export function decodeFrameBatch(buf: Uint8Array, sink: FrameSink): void {
  const batch = new ByteReader(buf, 0, buf.length);
  while (batch.pos < batch.end) {
    const tag = batch.varint();
    if (tag !== 0x0a) {
      batch.skip(tag & 7);
      continue;
    }
    const [start, end] = batch.lengthDelimited();
    decodeFrame(buf, start, end, sink);
  }
}

function decodeFrame(buf: Uint8Array, start: number, end: number, sink: FrameSink): void {
  const r = new ByteReader(buf, start, end);
  let streamId = 0;
  let kind = 0;
  let kindStart = 0;
  let kindEnd = 0;
  while (r.pos < end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === FRAME_FIELD.streamId && wireType === 0) {
      streamId = r.varint();
      if (streamId > MAX_STREAM_ID) throw malformed(`stream id ${streamId} is not a uint32`);
    } else if (field >= FRAME_FIELD.hello && field <= FRAME_FIELD.goAway && wireType === 2) {
      kind = field; // oneof: the last one wins
      [kindStart, kindEnd] = r.lengthDelimited();
    } else {
      r.skip(wireType);
    }
  }
  if (kind === FRAME_FIELD.data) {
    sink.data(streamId, buf, kindStart, kindEnd);
  } else if (kind !== 0) {
    sink.control(decodeControl(kind, streamId, new ByteReader(buf, kindStart, kindEnd)));
  }
}

function decodeControl(kind: number, streamId: number, r: ByteReader): ControlFrame {
  switch (kind) {
    case FRAME_FIELD.hello:
      return { kind: "hello", streamId: 0, headers: readHeaderList(r, 1) };
    case FRAME_FIELD.open: {
      let path = "";
      const headers: [string, string][] = [];
      let initialWindow = 0;
      forEachField(r, (field, wireType) => {
        if (field === 1 && wireType === 2) path = readString(r);
        else if (field === 2 && wireType === 2) headers.push(readHeader(r));
        else if (field === 3 && wireType === 0) initialWindow = r.varint();
        else r.skip(wireType);
      });
      return { kind: "open", streamId, path, headers, initialWindow };
    }
    case FRAME_FIELD.headers:
      return { kind: "headers", streamId, headers: readHeaderList(r, 1) };
    case FRAME_FIELD.halfClose:
      return { kind: "halfClose", streamId };
    case FRAME_FIELD.end: {
      let code = 0;
      let message = "";
      const details: ErrorDetailField[] = [];
      const trailers: [string, string][] = [];
      forEachField(r, (field, wireType) => {
        if (field === 1 && wireType === 0) code = r.varint();
        else if (field === 2 && wireType === 2) message = readString(r);
        else if (field === 3 && wireType === 2) details.push(readDetail(r));
        else if (field === 4 && wireType === 2) trailers.push(readHeader(r));
        else r.skip(wireType);
      });
      return { kind: "end", streamId, code, message, details, trailers };
    }
    case FRAME_FIELD.cancel:
      return { kind: "cancel", streamId };
    case FRAME_FIELD.windowUpdate:
      return { kind: "windowUpdate", streamId, bytes: readSingleVarint(r) };
    case FRAME_FIELD.ping:
      return { kind: "ping", streamId: 0, payload: readPayload(r) };
    case FRAME_FIELD.pong:
      return { kind: "pong", streamId: 0, payload: readPayload(r) };
    default: {
      let lastStreamId = 0;
      let message = "";
      forEachField(r, (field, wireType) => {
        if (field === 1 && wireType === 0) lastStreamId = r.varint();
        else if (field === 2 && wireType === 2) message = readString(r);
        else r.skip(wireType);
      });
      return { kind: "goAway", streamId: 0, lastStreamId, message };
    }
  }
}

function forEachField(r: ByteReader, visit: (field: number, wireType: number) => void): void {
  while (r.pos < r.end) {
    const tag = r.varint();
    visit(Math.floor(tag / 8), tag & 7);
  }
}

/** Reads field 1 as a `uint64` (ping/pong.payload, any value a peer may send, echoed exactly). */
function readPayload(r: ByteReader): Uint64 {
  let value: Uint64 = 0;
  forEachField(r, (field, wireType) => {
    if (field === 1 && wireType === 0) value = r.uint64();
    else r.skip(wireType);
  });
  return value;
}

/** Reads field 1 as a varint (window_update.bytes). */
function readSingleVarint(r: ByteReader): number {
  let value = 0;
  forEachField(r, (field, wireType) => {
    if (field === 1 && wireType === 0) value = r.varint();
    else r.skip(wireType);
  });
  return value;
}

function readString(r: ByteReader): string {
  const [start, end] = r.lengthDelimited();
  return utf8.decode(r.buf.subarray(start, end));
}

function readHeaderList(r: ByteReader, headerField: number): [string, string][] {
  const headers: [string, string][] = [];
  forEachField(r, (field, wireType) => {
    if (field === headerField && wireType === 2) headers.push(readHeader(r));
    else r.skip(wireType);
  });
  return headers;
}

function readHeader(r: ByteReader): [string, string] {
  const [start, end] = r.lengthDelimited();
  const h = new ByteReader(r.buf, start, end);
  let name = "";
  let value = "";
  forEachField(h, (field, wireType) => {
    if (field === 1 && wireType === 2) name = readString(h);
    else if (field === 2 && wireType === 2) value = readString(h);
    else h.skip(wireType);
  });
  return [name, value];
}

function readDetail(r: ByteReader): ErrorDetailField {
  const [start, end] = r.lengthDelimited();
  const d = new ByteReader(r.buf, start, end);
  let type = "";
  let value = new Uint8Array(0);
  forEachField(d, (field, wireType) => {
    if (field === 1 && wireType === 2) type = readString(d);
    else if (field === 2 && wireType === 2) {
      const [s, e] = d.lengthDelimited();
      value = d.buf.slice(s, e);
    } else d.skip(wireType);
  });
  return { type, value };
}
