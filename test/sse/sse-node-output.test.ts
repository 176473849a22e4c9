import * as http2 from "node:http2";
import * as net from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSimulatedSource } from "../../src/server/weather/simulated-source.js";
import { h2Request, rawExchange } from "../helpers/raw-http.js";
import { startServer } from "../helpers/server.js";
import { createManualClock } from "./manual-clock.js";

const tickMs = 1000;
const getWeather = `/sse/weather.WeatherService/GetWeather?encoding=json&message=${encodeURIComponent('{"cityCode":"NYC"}')}`;

/**
 * Decodes the chunks of a chunked HTTP/1.1 body from `at`, strictly (a size
 * that is not hex, or data not followed by CRLF, fails), up to the last
 * complete chunk or the terminating one: `ended` once that was read, and
 * `next` is where decoding stopped.
 */
function decodeChunks(raw: string, at: number): { body: string; next: number; ended: boolean } {
  let body = "";
  for (;;) {
    const sizeEnd = raw.indexOf("\r\n", at);
    if (sizeEnd < 0) return { body, next: at, ended: false };
    const size = Number.parseInt(raw.slice(at, sizeEnd), 16);
    if (!Number.isInteger(size)) throw new Error(`not a chunk size: ${JSON.stringify(raw.slice(at, at + 20))}`);
    if (raw.length < sizeEnd + 2 + size + 2) return { body, next: at, ended: false };
    body += raw.slice(sizeEnd + 2, sizeEnd + 2 + size);
    expect(raw.slice(sizeEnd + 2 + size, sizeEnd + 4 + size)).toBe("\r\n");
    at = sizeEnd + 4 + size;
    if (size === 0) return { body, next: at, ended: true };
  }
}

/** Splits raw HTTP/1.1 bytes into responses, decoding each chunked body strictly (a size that does not match fails). */
function parseResponses(raw: string): { head: string; body: string }[] {
  const responses: { head: string; body: string }[] = [];
  let at = 0;
  while (at < raw.length) {
    const headEnd = raw.indexOf("\r\n\r\n", at);
    if (headEnd < 0) throw new Error(`no end of head in ${JSON.stringify(raw.slice(at))}`);
    const head = raw.slice(at, headEnd);
    at = headEnd + 4;
    let body: string;
    if (/\r\ntransfer-encoding: chunked/i.test(head)) {
      const chunks = decodeChunks(raw, at);
      if (!chunks.ended) throw new Error(`a chunked body without its last chunk: ${JSON.stringify(raw.slice(at))}`);
      body = chunks.body;
      at = chunks.next;
    } else {
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? raw.length - at);
      body = raw.slice(at, at + length);
      at += length;
    }
    responses.push({ head, body });
  }
  return responses;
}

const subscribeTyo = `/sse/weather.WeatherService/SubscribeWeather?encoding=json&message=${encodeURIComponent('{"cityCode":"TYO"}')}`;

/** The events of a chunked HTTP/1.1 response read so far (a live one: it must not have ended): every complete chunk, each checked strictly. */
function chunkedEvents(raw: string): string[] {
  const at = raw.indexOf("\r\n\r\n");
  if (at < 0) return [];
  expect(raw.slice(0, at)).toMatch(/\r\ntransfer-encoding: chunked/i);
  const { body, ended } = decodeChunks(raw, at + 4);
  expect(ended).toBe(false);
  return body.split("\n\n").filter((e) => e.startsWith("id:") || e.startsWith("data:"));
}

describe("SSE responses of the Node server on the wire", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let clock: ReturnType<typeof createManualClock>;

  beforeEach(async () => {
    clock = createManualClock(1_795_000_000 * tickMs);
    server = await startServer({ clock, tickMs });
  });
  afterEach(() => server.close());

  it("HTTP/1.1: events are well-formed chunks, the response ends cleanly and the connection serves the next (pipelined) request", async () => {
    const request = (connection: string) => `GET ${getWeather} HTTP/1.1\r\nHost: localhost\r\nConnection: ${connection}\r\n\r\n`;
    const raw = await rawExchange(Number(new URL(server.url).port), request("keep-alive") + request("close"));
    const responses = parseResponses(raw.toString("utf8"));
    expect(responses).toHaveLength(2);
    for (const { head, body } of responses) {
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect(head).toMatch(/\r\ncontent-type: text\/event-stream/i);
      expect(body).toMatch(/^retry: \d+\n\n/);
      expect(body).toMatch(/\ndata: \{[^\n]*"timestamp":"1795000000000"[^\n]*\}\n\n/);
      expect(body).toMatch(/event: end\ndata: \{[^\n]*\}\n\n$/);
    }
  });

  it("h2c: the same events, framed by HTTP/2 alone", async () => {
    const response = await h2Request(server.url, { path: getWeather });
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/^retry: \d+\n\n/);
    expect(response.body).toMatch(/\ndata: \{[^\n]*"timestamp":"1795000000000"[^\n]*\}\n\n/);
    expect(response.body).toMatch(/event: end\ndata: \{[^\n]*\}\n\n$/);
  });

  it("a reading fanned out to several subscribers reaches each, over HTTP/1.1 and HTTP/2, as the same event", async () => {
    const port = Number(new URL(server.url).port);
    const texts = ["", "", "", ""];
    const append = (i: number) => (chunk: string) => void (texts[i] = `${texts[i] ?? ""}${chunk}`);
    const sockets = [0, 1].map((i) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.setEncoding("utf8");
      socket.on("data", append(i));
      socket.write(`GET ${subscribeTyo} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      return socket;
    });
    const session = http2.connect(server.url);
    for (const i of [2, 3]) {
      const stream = session.request({ ":path": subscribeTyo });
      stream.setEncoding("utf8");
      stream.on("data", append(i));
    }
    const events = (i: number): string[] =>
      i < 2 ? chunkedEvents(texts[i] ?? "") : (texts[i] ?? "").split("\n\n").filter((e) => e.startsWith("id:"));
    try {
      // Each gets the newest reading first; then one tick goes to all four.
      await expect.poll(() => [0, 1, 2, 3].map((i) => events(i).length)).toEqual([1, 1, 1, 1]);
      clock.advance(tickMs);
      await expect.poll(() => [0, 1, 2, 3].map((i) => events(i).length)).toEqual([2, 2, 2, 2]);
      const live = [0, 1, 2, 3].map((i) => events(i)[1]);
      expect(live[0]).toMatch(/^id: 1795000001000\ndata: \{[^\n]*"timestamp":"1795000001000"[^\n]*\}$/);
      expect(new Set(live).size).toBe(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      // Not stream.close() + session.close(): Node can leave a stream that the client resets while the server
      // ends it open until the shutdown grace (which this clock never reaches).
      session.destroy();
    }
  });

  it("h2c: GET subscriptions the client resets end on the server (no follower left behind)", async () => {
    const source = createSimulatedSource({ tickMs, historyWindowMs: 60 * tickMs, clock });
    let followers = 0;
    const counted = {
      ...source,
      follow: (city: string, listener: Parameters<typeof source.follow>[1]) => {
        const unfollow = source.follow(city, listener);
        followers++;
        return () => {
          followers--;
          unfollow();
        };
      },
    };
    const own = await startServer({ clock, tickMs, source: counted });
    const session = http2.connect(own.url);
    try {
      let text = "";
      const streams = [1, 2].map(() => {
        const stream = session.request({ ":path": subscribeTyo });
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => (text += chunk));
        return stream;
      });
      await expect.poll(() => text.split("\nid: ").length).toBe(3);
      expect(followers).toBe(2);
      // What a browser's EventSource.close() does over HTTP/2: RST_STREAM, the session stays.
      for (const stream of streams) stream.close(http2.constants.NGHTTP2_CANCEL);
      await expect.poll(() => followers).toBe(0);
    } finally {
      session.destroy();
      await own.close();
    }
  });
});
