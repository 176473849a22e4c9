// The tunnel's test vectors (vectors/frames.json) as typed values, and the
// conversions a test needs to hold them against the codec.
import { readFileSync } from "node:fs";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import type { ControlFrame, Frame } from "../../src/codec/tunnel/index.js";
import { type Frame as ProtoFrame, type FrameBatch, FrameBatchSchema } from "../../src/gen/weather/tunnel/v1/tunnel_pb.js";

export interface Vector {
  readonly name: string;
  readonly description: string;
  /** One WebSocket message, as space-separated hex bytes. */
  readonly hex: string;
  /** The message in the proto3 JSON mapping of `FrameBatch` (absent for malformed vectors). */
  readonly batch?: JsonValue;
}

export interface VectorFile {
  readonly canonical: { readonly vectors: readonly Vector[] };
  readonly tolerated: { readonly vectors: readonly Vector[] };
  readonly malformed: { readonly vectors: readonly Vector[] };
}

export function loadVectors(): VectorFile {
  return JSON.parse(readFileSync(new URL("vectors/frames.json", import.meta.url), "utf8")) as VectorFile;
}

export const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

export const unhex = (text: string): Uint8Array =>
  new Uint8Array(
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((h) => parseInt(h, 16)),
  );

/** A vector's `batch` as protobuf-es reads it from JSON. */
export function batchOf(vector: Vector): FrameBatch {
  if (vector.batch === undefined) throw new Error(`vector ${vector.name} has no batch`);
  return fromJson(FrameBatchSchema, vector.batch);
}

/** A decoded frame in a comparable shape: data frames carry their bytes as hex. */
export type Decoded = ControlFrame | { readonly kind: "data"; readonly streamId: number; readonly hex: string };

/** The frames of a batch as the codec's values; frames of no known kind are left out, as receivers ignore them. */
export function framesOf(batch: FrameBatch): Frame[] {
  return batch.frames.flatMap((f) => {
    const frame = toFrame(f);
    return frame === undefined ? [] : [frame];
  });
}

export function comparable(frame: Frame): Decoded {
  return frame.kind === "data" ? { kind: "data", streamId: frame.streamId, hex: frame.chunks.map(hex).join(" ") } : frame;
}

function toFrame(f: ProtoFrame): Frame | undefined {
  const streamId = f.streamId;
  const pairs = (headers: readonly { name: string; value: string }[]): [string, string][] => headers.map((h) => [h.name, h.value]);
  const k = f.kind;
  switch (k.case) {
    case "hello":
      return { kind: "hello", streamId: 0, headers: pairs(k.value.headers) };
    case "open":
      return { kind: "open", streamId, path: k.value.path, headers: pairs(k.value.headers), initialWindow: k.value.initialWindow };
    case "headers":
      return { kind: "headers", streamId, headers: pairs(k.value.headers) };
    case "data":
      return { kind: "data", streamId, chunks: [k.value] };
    case "halfClose":
      return { kind: "halfClose", streamId };
    case "end":
      return {
        kind: "end",
        streamId,
        code: k.value.code,
        message: k.value.message,
        details: k.value.details.map((d) => ({ type: d.type, value: d.value })),
        trailers: pairs(k.value.trailers),
      };
    case "cancel":
      return { kind: "cancel", streamId };
    case "windowUpdate":
      return { kind: "windowUpdate", streamId, bytes: k.value.bytes };
    case "ping":
      return { kind: "ping", streamId: 0, payload: uint64(k.value.payload) };
    case "pong":
      return { kind: "pong", streamId: 0, payload: uint64(k.value.payload) };
    case "goAway":
      return { kind: "goAway", streamId: 0, lastStreamId: k.value.lastStreamId, message: k.value.message };
    case undefined:
      return undefined;
  }
}

/** A uint64 as the codec holds it: a number below 2^53, else the bigint. */
function uint64(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
