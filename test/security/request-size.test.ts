// Attack 1 of issue 20: compression bombs and unbounded bodies. One limit,
// `limits.maxRequestBytes`, applies to the decompressed request message on
// every transport; crossing it is ResourceExhausted and costs the server no
// more than the limit.
import * as http from "node:http";
import * as zlib from "node:zlib";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envelope } from "../../src/codec/tunnel/index.js";
import { type WeatherServer } from "../../src/server/index.js";
import { connectRawTunnel, tunnelUrl, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";
import { MAX_HEALTHY_GAP_MS, RSS_BOUND_BYTES, sampleRss, TICK_MS, watchHealthy } from "./harness.js";

const LIMIT = 1024 * 1024;

/** A brotli bomb: `size` zero bytes in a few hundred bytes. */
function bomb(size: number): Buffer {
  return zlib.brotliCompressSync(Buffer.alloc(size), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** One POST over HTTP/1.1; resolves with what the server answered (it may answer before the body is sent). */
function post(url: string, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: "POST", headers: { ...headers, "content-length": String(body.length) }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The gRPC status of a gRPC-Web answer, from its headers or its trailer frame. */
function grpcWebStatus(answer: Answer): number {
  const header = answer.headers["grpc-status"];
  if (typeof header === "string") return Number(header);
  const match = /grpc-status:\s*(\d+)/.exec(answer.body);
  return match === null ? -1 : Number(match[1]);
}

let server: WeatherServer & { url: string };
beforeAll(async () => {
  server = await startServer({ tickMs: TICK_MS, limits: { maxRequestBytes: LIMIT } });
});
afterAll(() => server.close());

describe("one request-size limit, after decompression, on every transport", () => {
  it("a brotli bomb on Connect unary is ResourceExhausted; RSS stays bounded and a healthy subscriber is not delayed", async () => {
    const body = bomb(256 * 1024 * 1024); // 256 MiB of zeros in a few hundred bytes
    expect(body.length).toBeLessThan(4096);
    const healthy = await watchHealthy(server.url);
    await healthy.readings(2);
    const from = healthy.count;
    const rss = sampleRss();
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        post(`${server.url}${WEATHER.getWeather}`, { "content-type": "application/proto", "content-encoding": "br" }, body),
      ),
    );
    for (const a of answers) {
      expect(a.status).toBe(429); // Connect's HTTP status for resource_exhausted
      expect(JSON.parse(a.body)).toMatchObject({ code: "resource_exhausted" });
    }
    await healthy.readings(from + 2);
    expect(rss.stop()).toBeLessThan(RSS_BOUND_BYTES);
    expect(healthy.maxGapMs(from)).toBeLessThanOrEqual(MAX_HEALTHY_GAP_MS);
    healthy.close();
  });

  it("a gzip bomb in a gRPC-Web envelope is ResourceExhausted", async () => {
    const payload = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const frame = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), payload]);
    frame.writeUInt32BE(payload.length, 1);
    const answer = await post(
      `${server.url}${WEATHER.getWeather}`,
      { "content-type": "application/grpc-web+proto", "grpc-encoding": "gzip", "x-grpc-web": "1" },
      frame,
    );
    expect(grpcWebStatus(answer)).toBe(Code.ResourceExhausted);
  });

  it("a plain body over the limit is refused by its Content-Length, unread", async () => {
    const answer = await post(`${server.url}${WEATHER.getWeather}`, { "content-type": "application/proto" }, Buffer.alloc(LIMIT + 1));
    expect(JSON.parse(answer.body)).toMatchObject({ code: "resource_exhausted" });
  });

  it("an SSE POST body over the limit is ResourceExhausted", async () => {
    const answer = await post(
      `${server.url}/sse${WEATHER.subscribeWeather}`,
      { "content-type": "application/proto", accept: "text/event-stream" },
      Buffer.alloc(LIMIT + 1),
    );
    expect(JSON.parse(answer.body)).toMatchObject({ code: "resource_exhausted" });
  });

  it("a tunnel request message over the limit ends its stream with ResourceExhausted", async () => {
    const t = await connectRawTunnel(tunnelUrl(server.url));
    t.send([
      { kind: "open", streamId: 1, path: WEATHER.getWeather, headers: [], initialWindow: 0 },
      { kind: "data", streamId: 1, chunks: [envelope(new Uint8Array(LIMIT + 1))] },
    ]);
    expect(await t.end(1)).toMatchObject({ code: Code.ResourceExhausted });
    t.close();
  });
});
