import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { h2Request, rawExchange } from "../helpers/raw-http.js";
import { startServer } from "../helpers/server.js";
import { createManualClock } from "./manual-clock.js";

const tickMs = 1000;
const getWeather = `/sse/weather.WeatherService/GetWeather?encoding=json&message=${encodeURIComponent('{"cityCode":"NYC"}')}`;

/** Splits raw HTTP/1.1 bytes into responses, decoding each chunked body strictly (a size that does not match fails). */
function parseResponses(raw: string): { head: string; body: string }[] {
  const responses: { head: string; body: string }[] = [];
  let at = 0;
  while (at < raw.length) {
    const headEnd = raw.indexOf("\r\n\r\n", at);
    if (headEnd < 0) throw new Error(`no end of head in ${JSON.stringify(raw.slice(at))}`);
    const head = raw.slice(at, headEnd);
    at = headEnd + 4;
    let body = "";
    if (/\r\ntransfer-encoding: chunked/i.test(head)) {
      for (;;) {
        const sizeEnd = raw.indexOf("\r\n", at);
        const size = Number.parseInt(raw.slice(at, sizeEnd), 16);
        if (!Number.isInteger(size)) throw new Error(`not a chunk size: ${JSON.stringify(raw.slice(at, at + 20))}`);
        at = sizeEnd + 2;
        if (size === 0) {
          expect(raw.slice(at, at + 2)).toBe("\r\n");
          at += 2;
          break;
        }
        body += raw.slice(at, at + size);
        expect(raw.slice(at + size, at + size + 2)).toBe("\r\n");
        at += size + 2;
      }
    } else {
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? raw.length - at);
      body = raw.slice(at, at + length);
      at += length;
    }
    responses.push({ head, body });
  }
  return responses;
}

describe("SSE responses of the Node server on the wire", () => {
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeEach(async () => {
    server = await startServer({ clock: createManualClock(1_795_000_000 * tickMs), tickMs });
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
});
