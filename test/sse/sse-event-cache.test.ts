import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { envelope } from "../../src/codec/tunnel/index.js";
import { WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { SseCallSink, SseEventCache } from "../../src/server/sse/sse-call.js";
import { SharedSseText } from "../../src/server/sse/shared-text.js";
import { sseResume } from "../../src/server/sse/sse-resume.js";
import type { SseWriter } from "../../src/server/sse/sse-writer.js";

/** A writer that keeps the text it is given. */
function recordingWriter(): SseWriter & { readonly text: string[] } {
  const text: string[] = [];
  return {
    text,
    open: () => undefined,
    write: (t) => void text.push(t),
    writeShared: (s) => void text.push(s.text),
    congested: false,
    drained: () => Promise.resolve(),
    end: (t) => void text.push(t ?? ""),
    closed: false,
  };
}

const reading = (timestamp: bigint, description: string) =>
  envelope(toBinary(WeatherResponseSchema, create(WeatherResponseSchema, { timestamp, description })));

describe("SSE event text shared by the calls of a route", () => {
  it("encodes a reading sent to many calls once, and compares bytes, so a reused buffer with new contents gets its own event", () => {
    let cursors = 0;
    const resume = sseResume(WeatherService.method.subscribeWeather, {
      cursor: (r) => {
        cursors++;
        return r.timestamp.toString();
      },
      resumeHeader: "x-after",
    });
    const cache = new SseEventCache();
    const writers = [recordingWriter(), recordingWriter(), recordingWriter()];
    const sinks = writers.map((w) => new SseCallSink(w, WeatherService.method.subscribeWeather, true, resume, cache));

    const shared = reading(1000n, "sunny");
    for (const sink of sinks) expect(sink.data(shared)).toBe(true);
    const expected = `id: 1000\ndata: ${Buffer.from(shared.subarray(5)).toString("base64")}\n\n`;
    expect(writers.map((w) => w.text)).toEqual([[expected], [expected], [expected]]);
    expect(cursors).toBe(1);

    // The same buffer, rewritten in place with the next reading: a cache keyed by identity would repeat the old event.
    const next = reading(2000n, "rainy");
    expect(next.length).toBe(shared.length);
    shared.set(next);
    sinks[0]?.data(shared);
    expect(writers[0]?.text[1]).toBe(`id: 2000\ndata: ${Buffer.from(next.subarray(5)).toString("base64")}\n\n`);
    expect(cursors).toBe(2);
  });

  it("writes every event of a batch of envelopes in one text, and caches the batch as a whole", () => {
    const cache = new SseEventCache();
    const writer = recordingWriter();
    const sink = new SseCallSink(writer, WeatherService.method.subscribeWeather, false, undefined, cache);
    const a = reading(1n, "a");
    const b = reading(2n, "b");
    const batch = new Uint8Array(a.length + b.length);
    batch.set(a);
    batch.set(b, a.length);
    sink.data(batch);
    sink.data(batch);
    const events = ['data: {"description":"a","timestamp":"1"}\n\n', 'data: {"description":"b","timestamp":"2"}\n\n'];
    expect(writer.text).toEqual([events.join(""), events.join("")]);
  });

  it("a shared text's bytes are its UTF-8, and its HTTP/1.1 chunk counts bytes, not characters", () => {
    const text = 'data: {"description":"Ensoleillé ☀"}\n\n';
    const shared = new SharedSseText(text);
    const utf8 = new TextEncoder().encode(text);
    expect(utf8.length).toBeGreaterThan(text.length);
    expect(Array.from(shared.bytes)).toEqual(Array.from(utf8));
    const chunk = Buffer.from(shared.http1Chunk).toString("utf8");
    expect(chunk).toBe(`${utf8.length.toString(16)}\r\n${text}\r\n`);
    // Made once: every response gets the same memory.
    expect(shared.http1Chunk).toBe(shared.http1Chunk);
    expect(shared.bytes).toBe(shared.bytes);
  });
});
