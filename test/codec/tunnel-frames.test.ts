import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  type ControlFrame,
  decodeFrameBatch,
  encodeFrameBatch,
  envelope,
  forEachEnvelope,
  type Frame,
  FrameBatchBuilder,
  TunnelProtocolError,
} from "../../src/codec/tunnel/index.js";
import { FrameBatchSchema } from "../../src/gen/weather/tunnel/v1/tunnel_pb.js";
import { GetWeatherRequestSchema, WeatherResponseSchema } from "../../src/gen/weather_pb.js";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
const unhex = (text: string) =>
  new Uint8Array(
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((h) => parseInt(h, 16)),
  );

/** Decodes a batch into plain values for comparison. */
function decodeAll(bytes: Uint8Array): (ControlFrame | { kind: "data"; streamId: number; bytes: string })[] {
  const out: (ControlFrame | { kind: "data"; streamId: number; bytes: string })[] = [];
  decodeFrameBatch(bytes, {
    data: (streamId, buf, start, end) => out.push({ kind: "data", streamId, bytes: hex(buf.subarray(start, end)) }),
    control: (frame) => out.push(frame),
  });
  return out;
}

// The worked example of PROTOCOL.md: a unary GetWeather on stream 1.
const request = toBinary(GetWeatherRequestSchema, create(GetWeatherRequestSchema, { cityCode: "NYC" }));
const response = toBinary(
  WeatherResponseSchema,
  create(WeatherResponseSchema, { temperature: 10, humidity: 64, description: "Clear", timestamp: 1_795_588_240_000n }),
);
const CLIENT_OPEN_DATA_HALF_CLOSE =
  "0a 28 08 01 1a 24 0a 22 2f 77 65 61 74 68 65 72 2e 57 65 61 74 68 65 72 53 65 72 76 69 63 65 2f 47 65 74 57 65 61 74 68 65 72" +
  " 0a 0e 08 01 2a 0a 00 00 00 00 05 0a 03 4e 59 43" +
  " 0a 04 08 01 32 00";
const SERVER_HEADERS_DATA_END =
  "0a 18 08 01 22 14 0a 12 0a 0c 78 2d 72 65 71 75 65 73 74 2d 69 64 12 02 34 32" +
  " 0a 29 08 01 2a 25 00 00 00 00 20 09 00 00 00 00 00 00 24 40 11 00 00 00 00 00 00 50 40 1a 05 43 6c 65 61 72 20 80 e5 98 8b a1 34" +
  " 0a 04 08 01 3a 00";

describe("tunnel frame codec", () => {
  it("encodes the client side of a unary call as in PROTOCOL.md", () => {
    const bytes = encodeFrameBatch([
      { kind: "open", streamId: 1, path: "/weather.WeatherService/GetWeather", headers: [], initialWindow: 0 },
      { kind: "data", streamId: 1, chunks: [envelope(request)] },
      { kind: "halfClose", streamId: 1 },
    ]);
    expect(hex(bytes)).toBe(CLIENT_OPEN_DATA_HALF_CLOSE);
  });

  it("encodes the server side of a unary call as in PROTOCOL.md", () => {
    const bytes = encodeFrameBatch([
      { kind: "headers", streamId: 1, headers: [["x-request-id", "42"]] },
      { kind: "data", streamId: 1, chunks: [envelope(response)] },
      { kind: "end", streamId: 1, code: 0, message: "", details: [], trailers: [] },
    ]);
    expect(hex(bytes)).toBe(SERVER_HEADERS_DATA_END);
  });

  it("decodes the vectors back", () => {
    expect(decodeAll(unhex(CLIENT_OPEN_DATA_HALF_CLOSE))).toEqual([
      { kind: "open", streamId: 1, path: "/weather.WeatherService/GetWeather", headers: [], initialWindow: 0 },
      { kind: "data", streamId: 1, bytes: "00 00 00 00 05 0a 03 4e 59 43" },
      { kind: "halfClose", streamId: 1 },
    ]);
    const server = decodeAll(unhex(SERVER_HEADERS_DATA_END));
    expect(server[0]).toEqual({ kind: "headers", streamId: 1, headers: [["x-request-id", "42"]] });
    expect(server[2]).toEqual({ kind: "end", streamId: 1, code: 0, message: "", details: [], trailers: [] });
  });

  it("encodes small control frames byte for byte", () => {
    expect(hex(encodeFrameBatch([{ kind: "ping", streamId: 0, payload: 7 }]))).toBe("0a 04 52 02 08 07");
    expect(hex(encodeFrameBatch([{ kind: "windowUpdate", streamId: 5, bytes: 131_072 }]))).toBe("0a 08 08 05 4a 04 08 80 80 08");
    expect(hex(encodeFrameBatch([{ kind: "cancel", streamId: 300 }]))).toBe("0a 05 08 ac 02 42 00");
    expect(hex(encodeFrameBatch([{ kind: "end", streamId: 3, code: 3, message: "bad", details: [], trailers: [["x-a", "1"]] }]))).toBe(
      "0a 15 08 03 3a 11 08 03 12 03 62 61 64 22 08 0a 03 78 2d 61 12 01 31",
    );
  });

  const everyKind: Frame[] = [
    { kind: "hello", streamId: 0, headers: [["authorization", "Bearer t"]] },
    {
      kind: "open",
      streamId: 1,
      path: "/a.B/C",
      headers: [
        ["connect-timeout-ms", "500"],
        ["x-ü", "ö"],
      ],
      initialWindow: 65_536,
    },
    { kind: "headers", streamId: 1, headers: [] },
    { kind: "data", streamId: 1, chunks: [envelope(request), envelope(new Uint8Array(0))] },
    { kind: "halfClose", streamId: 1 },
    {
      kind: "end",
      streamId: 1,
      code: 5,
      message: "not found",
      details: [{ type: "google.rpc.ErrorInfo", value: new Uint8Array([1, 2, 3]) }],
      trailers: [["x-t", "v"]],
    },
    { kind: "cancel", streamId: 2 },
    { kind: "windowUpdate", streamId: 2, bytes: 4_294_967_295 },
    { kind: "ping", streamId: 0, payload: 2 ** 53 - 1 },
    { kind: "pong", streamId: 0, payload: 0 },
    { kind: "goAway", streamId: 0, lastStreamId: 9, message: "shutting down" },
  ];

  it("round-trips every frame kind", () => {
    const decoded = decodeAll(encodeFrameBatch(everyKind));
    expect(decoded).toEqual(
      everyKind.map((f) => (f.kind === "data" ? { kind: "data", streamId: f.streamId, bytes: concatHex(f.chunks) } : f)),
    );
  });

  it("builds the same bytes frame by frame as encodeFrameBatch writes at once", () => {
    const builder = new FrameBatchBuilder();
    for (const frame of everyKind) {
      if (frame.kind !== "data") builder.add(frame);
      else for (const chunk of frame.chunks) builder.data(frame.streamId, chunk);
    }
    expect(hex(builder.take())).toBe(hex(encodeFrameBatch(everyKind)));
    expect(builder.empty).toBe(true);
  });

  it("joins a stream's data into its open frame, rewriting its head as its length needs more bytes, also past other streams' frames", () => {
    const builder = new FrameBatchBuilder();
    const chunks = [100, 27, 1, 16_256, 3].map((n, i) => envelope(new Uint8Array(n).fill(i + 1)));
    builder.add({ kind: "headers", streamId: 1, headers: [["a", "b"]] });
    // Bodies of 105, 137 (the length crosses 127: a head one byte longer), 143, 16,404 (crosses 16,383), 16,412.
    for (const chunk of chunks) builder.data(1, chunk);
    builder.data(3, chunks[0] as Uint8Array);
    builder.add({ kind: "ping", streamId: 0, payload: 7 });
    // Stream 1's frame is not the last: stream 3's frame and the ping move up to make room.
    builder.data(1, chunks[1] as Uint8Array);
    const expected: Frame[] = [
      { kind: "headers", streamId: 1, headers: [["a", "b"]] },
      { kind: "data", streamId: 1, chunks: [...chunks, chunks[1] as Uint8Array] },
      { kind: "data", streamId: 3, chunks: [chunks[0] as Uint8Array] },
      { kind: "ping", streamId: 0, payload: 7 },
    ];
    const encoded = hex(encodeFrameBatch(expected));
    // Bytes are copied as they are added: the caller may reuse its buffers at once.
    for (const chunk of chunks) chunk.fill(0);
    expect(hex(builder.take())).toBe(encoded);
  });

  it("starts a new data frame after a control frame of the stream, past a kilobyte of later frames, and past 8 newer data frames", () => {
    const builder = new FrameBatchBuilder();
    const small = envelope(new Uint8Array(10));
    const large = envelope(new Uint8Array(2000));
    builder.data(1, small);
    builder.add({ kind: "windowUpdate", streamId: 1, bytes: 100 });
    builder.data(1, small); // after the stream's own control frame: a frame of its own
    builder.data(3, small);
    builder.data(5, large);
    builder.data(3, small); // 2 KB of stream 5 would have to move: a new frame
    for (let id = 7; id <= 23; id += 2) builder.data(id, small); // 9 newer frames: stream 3's is no longer open
    builder.data(3, small);
    const frames = decodeAll(builder.take()).map((f) => (f.kind === "data" ? `data ${f.streamId}` : `${f.kind} ${f.streamId}`));
    expect(frames).toEqual([
      "data 1",
      "windowUpdate 1",
      "data 1",
      "data 3",
      "data 5",
      "data 3",
      ...[7, 9, 11, 13, 15, 17, 19, 21, 23].map((id) => `data ${id}`),
      "data 3",
    ]);
  });

  it("keeps every stream's data in order and in place around its control frames, whatever the mix (seeded random batches)", () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const builder = new FrameBatchBuilder();
    for (let round = 0; round < 300; round++) {
      // What each stream was sent, in order: its data bytes and its control frames.
      const sent = new Map<number, string[]>();
      const log = (id: number, item: string) => sent.set(id, [...(sent.get(id) ?? []), item]);
      const adds = 1 + random(60);
      for (let a = 0; a < adds; a++) {
        const id = 1 + 2 * random(12);
        if (random(6) === 0) {
          builder.add({ kind: "windowUpdate", streamId: id, bytes: 1 + random(1000) });
          log(id, "control");
        } else {
          const size = [0, 3, 120, 700, 20_000][random(5)] as number;
          const bytes = envelope(new Uint8Array(size).map(() => random(256)));
          builder.data(id, bytes);
          log(id, hex(bytes));
        }
      }
      const got = new Map<number, string[]>();
      const batch = builder.take();
      decodeFrameBatch(batch, {
        data: (id, buf, start, end) =>
          forEachEnvelope(buf, start, end, (_flags, from, to) =>
            got.set(id, [...(got.get(id) ?? []), hex(envelope(buf.subarray(from, to)))]),
          ),
        control: (f) => got.set(f.streamId, [...(got.get(f.streamId) ?? []), "control"]),
      });
      expect(got).toEqual(sent);
    }
  });

  it("hands out each batch as its own bytes: later frames never change a batch taken before", () => {
    const builder = new FrameBatchBuilder();
    builder.data(1, envelope(new Uint8Array(300).fill(1)));
    const first = builder.take();
    const copy = hex(first);
    for (let i = 0; i < 50; i++) builder.data(1 + 2 * (i % 3), envelope(new Uint8Array(100).fill(2)));
    builder.take();
    builder.data(1, envelope(new Uint8Array(5)));
    expect(hex(first)).toBe(copy);
  });

  it("writes exactly what the schema in proto/ describes", () => {
    const batch = fromBinary(FrameBatchSchema, encodeFrameBatch(everyKind));
    expect(batch.frames.map((f) => f.kind.case)).toEqual([
      "hello",
      "open",
      "headers",
      "data",
      "halfClose",
      "end",
      "cancel",
      "windowUpdate",
      "ping",
      "pong",
      "goAway",
    ]);
    const open = batch.frames[1]?.kind;
    expect(open?.case === "open" && open.value.headers.map((h) => [h.name, h.value])).toEqual([
      ["connect-timeout-ms", "500"],
      ["x-ü", "ö"],
    ]);
    const end = batch.frames[5]?.kind;
    expect(end?.case === "end" && [end.value.code, end.value.message, end.value.details[0]?.type]).toEqual([
      5,
      "not found",
      "google.rpc.ErrorInfo",
    ]);
    // …and reads what protobuf-es writes from the schema.
    expect(decodeAll(toBinary(FrameBatchSchema, batch))).toEqual(decodeAll(encodeFrameBatch(everyKind)));
  });

  it("writes the bytes protobuf-es writes for the same frames, strings in any script included", () => {
    const text = [
      "ascii",
      "é ü ß",
      "日本語",
      "emoji 🌦️ and 𝄞",
      "lone \ud800 high",
      "lone \udc00 low",
      "ends high \ud83c",
      "\udc00\ud800 reversed",
      "x".repeat(300),
    ];
    const frames: Frame[] = text.flatMap((t, i): Frame[] => [
      { kind: "hello", streamId: 0, headers: [[`x-${i}`, t]] },
      {
        kind: "open",
        streamId: i + 1,
        path: `/${t}`,
        headers: [
          ["x-t", t],
          ["x-empty", ""],
        ],
        initialWindow: i * 1000,
      },
      { kind: "end", streamId: i + 1, code: i % 17, message: t, details: [{ type: t, value: new Uint8Array(i) }], trailers: [[t, t]] },
      { kind: "goAway", streamId: 0, lastStreamId: i, message: t },
    ]);
    const ours = encodeFrameBatch(frames);
    expect(hex(toBinary(FrameBatchSchema, fromBinary(FrameBatchSchema, ours)))).toBe(hex(ours));
    const decoded = decodeAll(ours).filter((f): f is ControlFrame & { kind: "goAway" } => f.kind === "goAway");
    // What TextEncoder makes of each string (lone surrogates become U+FFFD), read back.
    expect(decoded.map((f) => f.message)).toEqual(text.map((t) => new TextDecoder().decode(new TextEncoder().encode(t))));
  });

  it("skips unknown fields and unknown frame kinds", () => {
    // frame 1: stream 1, unknown field 15 (varint 1), cancel; frame 2: only an unknown kind (field 20).
    const bytes = unhex("0a 06 08 01 78 01 42 00 0a 03 a2 01 00");
    expect(decodeAll(bytes)).toEqual([{ kind: "cancel", streamId: 1 }]);
  });

  it("skips unknown varint fields of any size, up to 64 bits", () => {
    // stream 1, unknown field 15 = 2^64-1 (10 bytes), cancel
    const bytes = unhex("0a 0f 08 01 78 ff ff ff ff ff ff ff ff ff 01 42 00");
    expect(decodeAll(bytes)).toEqual([{ kind: "cancel", streamId: 1 }]);
  });

  describe("ping and pong payloads: the full uint64 range", () => {
    it.each([
      ["0", 0, 0n],
      ["2^49 - 1 (seven bytes)", 2 ** 49 - 1, 2n ** 49n - 1n],
      ["2^49 (eight bytes)", 2 ** 49, 2n ** 49n],
      ["2^53 - 1", Number.MAX_SAFE_INTEGER, 2n ** 53n - 1n],
      ["2^53", 2n ** 53n, 2n ** 53n],
      ["2^56", 2n ** 56n, 2n ** 56n],
      ["2^63", 2n ** 63n, 2n ** 63n],
      ["2^64 - 1", 2n ** 64n - 1n, 2n ** 64n - 1n],
    ] as const)("round-trips %s exactly, as protobuf-es reads and writes it", (_what, payload, exact) => {
      const bytes = encodeFrameBatch([{ kind: "ping", streamId: 0, payload }]);
      expect(decodeAll(bytes)).toEqual([{ kind: "ping", streamId: 0, payload }]);
      const parsed = fromBinary(FrameBatchSchema, bytes).frames[0]?.kind;
      expect(parsed?.case === "ping" ? parsed.value.payload : undefined).toBe(exact);
      const written = create(FrameBatchSchema, { frames: [{ kind: { case: "pong", value: { payload: exact } } }] });
      expect(decodeAll(toBinary(FrameBatchSchema, written))).toEqual([{ kind: "pong", streamId: 0, payload }]);
    });

    it("reads a non-minimal ten-byte varint of a small payload as a number", () => {
      expect(decodeAll(unhex("0a 0d 52 0b 08 85 80 80 80 80 80 80 80 80 00"))).toEqual([{ kind: "ping", streamId: 0, payload: 5 }]);
    });

    it.each([
      ["2^64 (a tenth byte of 2)", "0a 0d 52 0b 08 80 80 80 80 80 80 80 80 80 02"],
      ["an eleven-byte varint", "0a 0e 52 0c 08 80 80 80 80 80 80 80 80 80 80 00"],
    ])("rejects a payload of %s as malformed_frame", (_what, bytes) => {
      expect(() => decodeAll(unhex(bytes))).toThrow(/above 2\^64|longer than 10 bytes/);
    });

    it("still rejects other integer fields above 2^53 - 1", () => {
      // window_update on stream 1 with bytes = 2^53
      expect(() => decodeAll(unhex("0a 0d 08 01 4a 09 08 80 80 80 80 80 80 80 10"))).toThrow(/varint too long/);
    });
  });

  it.each([
    ["a truncated frame", "0a 05 08 01"],
    ["a varint that never ends", "0a 03 08 ff ff"],
    ["a kind whose length runs past the frame", "0a 04 08 01 2a 09"],
    ["an unsupported wire type", "0a 02 0b 00"],
  ])("rejects %s as malformed_frame", (_what, bytes) => {
    expect(() => decodeAll(unhex(bytes))).toThrow(TunnelProtocolError);
    try {
      decodeAll(unhex(bytes));
    } catch (e) {
      expect(e instanceof TunnelProtocolError && e.code).toBe("malformed_frame");
    }
  });

  it("walks several envelopes of one data frame as views", () => {
    const data = encodeFrameBatch([{ kind: "data", streamId: 7, chunks: [envelope(request), envelope(response)] }]);
    const seen: string[] = [];
    decodeFrameBatch(data, {
      data: (_id, buf, start, end) =>
        forEachEnvelope(buf, start, end, (flags, s, e) => {
          expect(flags).toBe(0);
          expect(buf.subarray(s, e).buffer).toBe(data.buffer); // a view, not a copy
          seen.push(hex(buf.subarray(s, e)));
        }),
      control: () => expect.fail("no control frames here"),
    });
    expect(seen).toEqual([hex(request), hex(response)]);
  });

  it("rejects data that does not end on an envelope boundary", () => {
    const bytes = unhex("00 00 00 00 05 0a 03");
    expect(() => forEachEnvelope(bytes, 0, bytes.length, () => undefined)).toThrow(/runs past its frame/);
  });
});

function concatHex(chunks: readonly Uint8Array[]): string {
  return chunks.map(hex).join(" ");
}
