import { toBinary } from "@bufbuild/protobuf";
import { envelope } from "../../src/codec/tunnel/index.js";
import { WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { findCity, readingAt } from "../../src/simulation/index.js";
import { CITY } from "../shared.js";

/** A fixed tick so every run streams the same bytes. */
const FIRST_TICK = 1_795_588_240;
const TICK_MS = 1000;

/** The messages of one server stream, serialized, plus the envelopes around them. */
export interface Payloads {
  /** Serialized `WeatherResponse`s, timestamps strictly increasing (a subscription drops anything else). */
  readonly messages: readonly Uint8Array[];
  /** `messages[i]` in a Connect envelope (flags 0, uint32 length). */
  readonly envelopes: readonly Uint8Array[];
  /** `timestamp` of each message as decimal text: the SSE `id:` (cursor). */
  readonly cursors: readonly string[];
  /** Sum of the bare protobuf sizes. */
  readonly payloadBytes: number;
}

/** Readings of the reference model for consecutive ticks: realistic values, ~40 bytes each. */
export function makePayloads(count: number): Payloads {
  const city = findCity(CITY);
  if (city === undefined) throw new Error(`unknown city ${CITY}`);
  const messages: Uint8Array[] = [];
  const envelopes: Uint8Array[] = [];
  const cursors: string[] = [];
  let payloadBytes = 0;
  for (let i = 0; i < count; i++) {
    const reading = readingAt(city, FIRST_TICK + i, TICK_MS);
    const bytes = toBinary(WeatherResponseSchema, reading);
    messages.push(bytes);
    envelopes.push(envelope(bytes));
    cursors.push(reading.timestamp.toString());
    payloadBytes += bytes.length;
  }
  return { messages, envelopes, cursors, payloadBytes };
}

/** Concatenates `parts[from, to)`. */
export function concatRange(parts: readonly Uint8Array[], from: number, to: number): Buffer {
  return Buffer.concat(parts.slice(from, to));
}

/** `parts` joined `size` at a time. */
export function batches(parts: readonly Uint8Array[], size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < parts.length; i += size) out.push(concatRange(parts, i, Math.min(parts.length, i + size)));
  return out;
}
