// Attacks 4 and 5 of issue 20 on the tunnel: hello-header amplification
// (hello and open headers are size-limited, hello is validated once) and
// pinned request buffers (a unary or server-streaming stream must half-close
// within halfCloseTimeoutMs; the bytes a connection holds for such streams
// are capped).
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envelope, type Frame } from "../../src/codec/tunnel/index.js";
import { type WeatherServer } from "../../src/server/index.js";
import { CLOSE_CODE } from "../../src/server/tunnel/close-codes.js";
import { connectRawTunnel, tunnelUrl, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";
import { MAX_HEALTHY_GAP_MS, RSS_BOUND_BYTES, sampleRss, TICK_MS, watchHealthy } from "./harness.js";

const MAX_HEADER_BYTES = 16 * 1024;

let server: WeatherServer & { url: string };
beforeAll(async () => {
  server = await startServer({
    tickMs: TICK_MS,
    tunnel: { halfCloseTimeoutMs: 300, maxPendingRequestBytes: 8 * 1024 * 1024 },
  });
});
afterAll(() => server.close());

const open = (id: number, path: string = WEATHER.getWeather, headers: [string, string][] = []): Frame => ({
  kind: "open",
  streamId: id,
  path,
  headers,
  initialWindow: 0,
});

describe("hello-header amplification", () => {
  it("closes with 1002 a hello over maxHeaderBytes before any stream runs; RSS bounded, a healthy subscriber undelayed", async () => {
    const healthy = await watchHealthy(server.url);
    await healthy.readings(2);
    const from = healthy.count;
    const rss = sampleRss();
    const big = "x".repeat(MAX_HEADER_BYTES);
    const opens = Array.from({ length: 4000 }, (_, i) => open(i + 1));
    const attacks = await Promise.all(
      Array.from({ length: 5 }, () => connectRawTunnel(tunnelUrl(server.url), { hello: [["x-big", big]] })),
    );
    for (const t of attacks) t.send(opens);
    for (const t of attacks) expect((await t.closed).code).toBe(CLOSE_CODE.protocolError);
    for (const t of attacks) expect(t.frames).toEqual([]);
    await healthy.readings(from + 2);
    expect(rss.stop()).toBeLessThan(RSS_BOUND_BYTES);
    expect(healthy.maxGapMs(from)).toBeLessThanOrEqual(MAX_HEALTHY_GAP_MS);
    healthy.close();
  });

  it("accepts a hello just under the limit and merges it into each stream", async () => {
    const t = await connectRawTunnel(tunnelUrl(server.url), { hello: [["x-big", "x".repeat(MAX_HEADER_BYTES - 10)]] });
    t.send([
      open(1),
      { kind: "data", streamId: 1, chunks: [envelope(new Uint8Array([0x0a, 0x03, 0x4e, 0x59, 0x43]))] },
      { kind: "halfClose", streamId: 1 },
    ]);
    expect(await t.end(1)).toMatchObject({ code: 0 });
    t.close();
  });

  it("ends with ResourceExhausted a stream whose own open headers are over maxHeaderBytes; the connection stays", async () => {
    const t = await connectRawTunnel(tunnelUrl(server.url));
    t.send([open(1, WEATHER.getWeather, [["x-big", "x".repeat(MAX_HEADER_BYTES + 1)]])]);
    expect(await t.end(1)).toMatchObject({ code: Code.ResourceExhausted });
    t.send([
      open(2),
      { kind: "data", streamId: 2, chunks: [envelope(new Uint8Array([0x0a, 0x03, 0x4e, 0x59, 0x43]))] },
      { kind: "halfClose", streamId: 2 },
    ]);
    expect(await t.end(2)).toMatchObject({ code: 0 });
    t.close();
  });
});

describe("pinned request buffers", () => {
  it("ends a unary stream that never half-closes with DeadlineExceeded after halfCloseTimeoutMs", async () => {
    const t = await connectRawTunnel(tunnelUrl(server.url));
    t.send([open(1), { kind: "data", streamId: 1, chunks: [envelope(new Uint8Array([0x0a, 0x03, 0x4e, 0x59, 0x43]))] }]);
    t.send([open(2, WEATHER.subscribeWeather)]);
    expect(await t.end(1)).toMatchObject({ code: Code.DeadlineExceeded });
    expect(await t.end(2)).toMatchObject({ code: Code.DeadlineExceeded });
    t.close();
  });

  it("caps the request bytes a connection holds for streams not yet half-closed; RSS bounded, a healthy subscriber undelayed", async () => {
    const healthy = await watchHealthy(server.url);
    await healthy.readings(2);
    const from = healthy.count;
    const rss = sampleRss();
    const t = await connectRawTunnel(tunnelUrl(server.url));
    // 30 streams of 1 MiB each: at most 8 MiB are held at a time; a stream over it ends at once, the held ones at their deadline.
    const message = envelope(new Uint8Array(1024 * 1024 - 5));
    for (let id = 1; id <= 30; id++) t.send([open(id), { kind: "data", streamId: id, chunks: [message] }]);
    const ends = await Promise.all(Array.from({ length: 30 }, (_, i) => t.end(i + 1)));
    const codes = ends.map((e): number => e.code);
    expect(codes).toContain(Code.ResourceExhausted);
    expect(codes.filter((c) => c !== (Code.ResourceExhausted as number) && c !== (Code.DeadlineExceeded as number))).toEqual([]);
    await healthy.readings(from + 2);
    expect(rss.stop()).toBeLessThan(RSS_BOUND_BYTES);
    expect(healthy.maxGapMs(from)).toBeLessThanOrEqual(MAX_HEALTHY_GAP_MS);
    healthy.close();
    t.close();
  });
});
