import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createSseDecoder } from "../../src/codec/sse/decoder.js";
import { encodeSseComment, encodeSseEvent, encodeSseRetry } from "../../src/codec/sse/encoder.js";
import { sseMethodUrl } from "../../src/codec/sse/protocol.js";
import {
  encodeSseStatus,
  parseSseStatus,
  sseStatusFromEndStream,
  sseStatusFromError,
  sseStatusFromErrorJson,
  sseStatusOk,
} from "../../src/codec/sse/status.js";

type Seen = ["message", string, string | undefined] | ["end", string] | ["resume", string];

/** Feeds `chunks` to a fresh decoder and lists what it reported, in order. */
function decode(chunks: readonly string[]): Seen[] {
  const seen: Seen[] = [];
  const decoder = createSseDecoder({
    onMessage: (data, id) => seen.push(["message", data, id]),
    onEnd: (data) => seen.push(["end", data]),
    onResume: (status) => seen.push(["resume", status]),
  });
  for (const chunk of chunks) decoder.feed(chunk);
  decoder.finish();
  return seen;
}

/** Every way to cut `text` in two, plus one UTF-16 code unit at a time. */
function splits(text: string): string[][] {
  const out: string[][] = [Array.from({ length: text.length }, (_, i) => text.charAt(i))];
  for (let i = 0; i <= text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe("encodeSseEvent", () => {
  it("writes id before data and ends with a blank line", () => {
    expect(encodeSseEvent({ id: "1700000000000", data: "CgNOWUM=" })).toBe("id: 1700000000000\ndata: CgNOWUM=\n\n");
    expect(encodeSseEvent({ event: "end", data: '{"code":"ok"}' })).toBe('event: end\ndata: {"code":"ok"}\n\n');
  });

  it("splits data on LF, CR and CRLF into data lines", () => {
    expect(encodeSseEvent({ data: "a\nb\r\nc\rd" })).toBe("data: a\ndata: b\ndata: c\ndata: d\n\n");
    expect(encodeSseEvent({ data: "" })).toBe("data: \n\n");
    expect(encodeSseEvent({ data: "trailing\n" })).toBe("data: trailing\ndata: \n\n");
  });

  it("keeps a leading space of the data (the separator space is the one a parser strips)", () => {
    expect(decode([encodeSseEvent({ data: " padded" })])).toEqual([["message", " padded", undefined]]);
  });

  it("refuses ids and event names the format cannot carry", () => {
    expect(() => encodeSseEvent({ id: "1\n2", data: "x" })).toThrow(RangeError);
    expect(() => encodeSseEvent({ id: "1\r", data: "x" })).toThrow(RangeError);
    expect(() => encodeSseEvent({ id: "a\0b", data: "x" })).toThrow(RangeError);
    expect(() => encodeSseEvent({ event: "a\nb", data: "x" })).toThrow(RangeError);
  });

  it("writes comments and retry hints", () => {
    expect(encodeSseComment("keepalive")).toBe(": keepalive\n\n");
    expect(encodeSseComment("a\nb")).toBe(": a\n: b\n\n");
    expect(encodeSseRetry(1500)).toBe("retry: 1500\n\n");
    expect(() => encodeSseRetry(-1)).toThrow(RangeError);
    expect(() => encodeSseRetry(1.5)).toThrow(RangeError);
  });
});

describe("createSseDecoder", () => {
  const stream =
    "retry: 1000\n\n" +
    ": keepalive\n\n" +
    "event: resume\ndata: gap\n\n" +
    'id: 1\ndata: {"a":\ndata: "°C"}\n\n' +
    "id: 2\ndata: Zm9v\n\n" +
    'event: end\ndata: {"code":"ok"}\n\n';
  const expected: Seen[] = [
    ["resume", "gap"],
    ["message", '{"a":\n"°C"}', "1"],
    ["message", "Zm9v", "2"],
    ["end", '{"code":"ok"}'],
  ];

  it("decodes a whole stream: comments and retry ignored, multi-line data joined with LF", () => {
    expect(decode([stream])).toEqual(expected);
  });

  it("gives the same events however the stream is split into chunks", () => {
    for (const chunks of splits(stream)) expect(decode(chunks)).toEqual(expected);
  });

  it("reads CRLF and lone CR line ends, split anywhere (including between CR and LF)", () => {
    for (const eol of ["\r\n", "\r"]) {
      const text = stream.replaceAll("\n", eol);
      for (const chunks of splits(text)) expect(decode(chunks)).toEqual(expected);
    }
  });

  it("strips a byte order mark and treats `event: message` as a message", () => {
    expect(decode(["\uFEFFevent: message\ndata: x\n\n"])).toEqual([["message", "x", undefined]]);
  });

  it("ignores unknown events and fields, and a last event without its blank line", () => {
    expect(decode(["event: future\ndata: x\n\nfoo: bar\ndata: y\n\ndata: cut"])).toEqual([["message", "y", undefined]]);
    expect(decode(["data: a\n\ndata: cut\n"])).toEqual([["message", "a", undefined]]);
    expect(decode(["data: a\r\rdata: cut\r"])).toEqual([["message", "a", undefined]]);
  });

  it("round-trips what the encoder writes", () => {
    const events = [
      { id: "9", data: "line one\nline two" },
      { data: "" },
      { event: "end", data: '{"code":"unavailable","message":"bye"}' },
    ];
    const text = events.map((e) => encodeSseEvent(e)).join("") + encodeSseComment("x");
    expect(decode([text])).toEqual([
      ["message", "line one\nline two", "9"],
      ["message", "", undefined],
      ["end", '{"code":"unavailable","message":"bye"}'],
    ]);
  });

  it("fails with resource_exhausted on an event longer than maxEventChars", () => {
    const decoder = createSseDecoder({ onMessage: () => undefined, onEnd: () => undefined }, { maxEventChars: 16 });
    decoder.feed("data: short\n\n");
    const error = (() => {
      try {
        decoder.feed(`data: ${"x".repeat(40)}`);
      } catch (e) {
        return ConnectError.from(e);
      }
      return undefined;
    })();
    expect(error?.code).toBe(Code.ResourceExhausted);
  });
});

describe("SSE status", () => {
  it("says ok, with trailers as Connect metadata", () => {
    expect(encodeSseStatus(sseStatusOk())).toBe('{"code":"ok"}');
    const trailer = new Headers([["x-count", "3"]]);
    expect(sseStatusOk(trailer)).toEqual({ code: "ok", metadata: { "x-count": ["3"] } });
    const parsed = parseSseStatus(encodeSseStatus(sseStatusOk(trailer)));
    expect(parsed.error).toBeUndefined();
    expect(parsed.trailer.get("x-count")).toBe("3");
  });

  it("carries code, message, details and trailers of an error", () => {
    const error = new ConnectError("no such city", Code.InvalidArgument);
    error.details.push({ type: "example.Detail", value: new Uint8Array([1, 2, 3]) });
    const status = sseStatusFromError(error, new Headers([["x-trace", "t1"]]));
    const { error: back, trailer } = parseSseStatus(encodeSseStatus(status));
    expect(back?.code).toBe(Code.InvalidArgument);
    expect(back?.rawMessage).toBe("no such city");
    expect(back?.details).toEqual([{ type: "example.Detail", value: new Uint8Array([1, 2, 3]), debug: undefined }]);
    expect(back?.metadata.get("x-trace")).toBe("t1");
    expect(trailer.get("x-trace")).toBe("t1");
  });

  it("reshapes Connect end-stream messages and unary error bodies", () => {
    expect(sseStatusFromEndStream({})).toEqual({ code: "ok" });
    expect(sseStatusFromEndStream({ metadata: { a: ["1"] } })).toEqual({ code: "ok", metadata: { a: ["1"] } });
    expect(sseStatusFromEndStream({ error: { code: "unavailable", message: "shutting down" }, metadata: {} })).toEqual({
      code: "unavailable",
      message: "shutting down",
      metadata: {},
    });
    expect(sseStatusFromEndStream("nonsense").code).toBe("internal");
    const fallback = new ConnectError("HTTP 503", Code.Unavailable);
    expect(sseStatusFromErrorJson({ code: "not_found" }, new Headers(), fallback)).toEqual({ code: "not_found" });
    expect(sseStatusFromErrorJson({ code: "bogus" }, new Headers(), fallback)).toEqual({ code: "unavailable", message: "HTTP 503" });
  });

  it("rejects malformed status data with internal", () => {
    for (const data of ["", "{", "[]", '{"code":1}', '{"code":"bogus"}', '{"code":"ok","metadata":{"a":"1"}}']) {
      expect(() => parseSseStatus(data), data).toThrow(ConnectError);
      try {
        parseSseStatus(data);
      } catch (e) {
        expect(ConnectError.from(e).code).toBe(Code.Internal);
      }
    }
  });
});

describe("sseMethodUrl", () => {
  it("puts /sse/{Service}/{Method} after the base URL", () => {
    expect(sseMethodUrl("https://x.example", "weather.WeatherService", "GetWeather")).toBe(
      "https://x.example/sse/weather.WeatherService/GetWeather",
    );
    expect(sseMethodUrl("https://x.example/api/", "a.B", "C")).toBe("https://x.example/api/sse/a.B/C");
  });
});
