import { type ControlFrame, FRAME_FIELD, type Frame, type HeaderList } from "./frames.js";
import { varintSize, writeVarint } from "./varint.js";

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * Encodes frames as one `FrameBatch`: the bytes of one WebSocket message.
 * Data chunks are copied exactly once, into the returned buffer.
 */
export function encodeFrameBatch(frames: readonly Frame[]): Uint8Array {
  const n = frames.length;
  const bodies: Uint8Array[] = new Array<Uint8Array>(n);
  const kindLengths = new Array<number>(n);
  const frameLengths = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const frame = frames[i] as Frame;
    let kindLength: number;
    if (frame.kind === "data") {
      kindLength = 0;
      for (const chunk of frame.chunks) kindLength += chunk.length;
    } else {
      const body = encodeControlBody(frame);
      bodies[i] = body;
      kindLength = body.length;
    }
    const idLength = frame.streamId === 0 ? 0 : 1 + varintSize(frame.streamId);
    const frameLength = idLength + 1 + varintSize(kindLength) + kindLength;
    kindLengths[i] = kindLength;
    frameLengths[i] = frameLength;
    total += 1 + varintSize(frameLength) + frameLength;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const frame = frames[i] as Frame;
    out[pos++] = (1 << 3) | WIRE_LEN; // FrameBatch.frames
    pos = writeVarint(out, pos, frameLengths[i] as number);
    if (frame.streamId !== 0) {
      out[pos++] = (FRAME_FIELD.streamId << 3) | WIRE_VARINT;
      pos = writeVarint(out, pos, frame.streamId);
    }
    out[pos++] = (FRAME_FIELD[frame.kind] << 3) | WIRE_LEN;
    pos = writeVarint(out, pos, kindLengths[i] as number);
    if (frame.kind === "data") {
      for (const chunk of frame.chunks) {
        out.set(chunk, pos);
        pos += chunk.length;
      }
    } else {
      const body = bodies[i] as Uint8Array;
      out.set(body, pos);
      pos += body.length;
    }
  }
  return out;
}

function encodeControlBody(frame: ControlFrame): Uint8Array {
  switch (frame.kind) {
    case "hello":
    case "headers":
      return headerFields(1, frame.headers);
    case "open":
      return concat([stringField(1, frame.path), headerFields(2, frame.headers), varintField(3, frame.initialWindow)]);
    case "halfClose":
    case "cancel":
      return EMPTY;
    case "end":
      return concat([
        varintField(1, frame.code),
        stringField(2, frame.message),
        ...frame.details.map((d) => lenField(3, concat([stringField(1, d.type), lenField(2, d.value, false)]), true)),
        headerFields(4, frame.trailers),
      ]);
    case "windowUpdate":
      return varintField(1, frame.bytes);
    case "ping":
    case "pong":
      return varintField(1, frame.payload);
    case "goAway":
      return concat([varintField(1, frame.lastStreamId), stringField(2, frame.message)]);
  }
}

function headerFields(field: number, headers: HeaderList): Uint8Array {
  return concat(headers.map(([name, value]) => lenField(field, concat([stringField(1, name), stringField(2, value)]), true)));
}

function varintField(field: number, value: number): Uint8Array {
  if (value === 0) return EMPTY; // proto3: defaults are not written
  const out = new Uint8Array(1 + varintSize(value));
  out[0] = (field << 3) | WIRE_VARINT;
  writeVarint(out, 1, value);
  return out;
}

function stringField(field: number, value: string): Uint8Array {
  return lenField(field, utf8.encode(value), false);
}

/** A length-delimited field; empty scalars are omitted unless `always` (sub-messages, repeated entries). */
function lenField(field: number, bytes: Uint8Array, always: boolean): Uint8Array {
  if (bytes.length === 0 && !always) return EMPTY;
  const out = new Uint8Array(1 + varintSize(bytes.length) + bytes.length);
  out[0] = (field << 3) | WIRE_LEN;
  out.set(bytes, writeVarint(out, 1, bytes.length));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
