import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createAsyncIterable, createWritableIterable } from "@connectrpc/connect/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../src/codec/resume.js";
import { type GetWeatherRequest, GetWeatherRequestSchema, WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import type { WeatherServer } from "../../src/server/index.js";
import { findCity, readingAt } from "../../src/simulation/index.js";
import { createWebSocketTransport, type WebSocketTransport } from "../../src/transport/websocket/index.js";
import { expectStrictlyIncreasing } from "../helpers/assertions.js";
import { startServer } from "../helpers/server.js";

const TICK_MS = 20;
let server: WeatherServer & { url: string };
let transport: WebSocketTransport;

beforeAll(async () => {
  server = await startServer({ tickMs: TICK_MS });
  transport = createWebSocketTransport({ url: `${server.url}/ws` });
});
afterAll(async () => {
  transport.close();
  await server.close();
});

const expected = (code: string, timestamp: bigint) => {
  const city = findCity(code);
  if (city === undefined) throw new Error(code);
  return readingAt(city, Number(timestamp) / TICK_MS, TICK_MS);
};

describe("WebSocket transport against the real server", () => {
  it("calls GetWeather (unary)", async () => {
    const client = createClient(WeatherService, transport);
    const r = await client.getWeather({ cityCode: "NYC" });
    expect(r).toEqual(expected("NYC", r.timestamp));
  });

  it("streams SubscribeWeather, tick after tick", async () => {
    const client = createClient(WeatherService, transport);
    const abort = new AbortController();
    const got: bigint[] = [];
    await expect(
      (async () => {
        for await (const r of client.subscribeWeather({ cityCode: "TYO" }, { signal: abort.signal })) {
          expect(r).toEqual(expected("TYO", r.timestamp));
          got.push(r.timestamp);
          if (got.length === 5) abort.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: Code.Canceled });
    expectStrictlyIncreasing(got);
    expect(got.at(-1)).toBe((got[0] ?? 0n) + 4n * BigInt(TICK_MS));
  });

  it("resumes a stream with the resume header and reports it in the response headers", async () => {
    const client = createClient(WeatherService, transport);
    const now = await client.getWeather({ cityCode: "LON" });
    const cursor = now.timestamp - 3n * BigInt(TICK_MS);
    const abort = new AbortController();
    const got: bigint[] = [];
    let status: string | null = null;
    try {
      for await (const r of client.subscribeWeather(
        { cityCode: "LON" },
        {
          signal: abort.signal,
          headers: { [RESUME_AFTER_HEADER]: cursor.toString() },
          onHeader: (h) => (status = h.get(RESUME_STATUS_HEADER)),
        },
      )) {
        got.push(r.timestamp);
        if (got.length === 3) abort.abort();
      }
    } catch (e) {
      expect(ConnectError.from(e).code).toBe(Code.Canceled);
    }
    expect(status).toBe("recovered");
    expect(got).toEqual([1n, 2n, 3n].map((i) => cursor + i * BigInt(TICK_MS)));
  });

  it("sends a client stream with ReportBatch", async () => {
    const client = createClient(WeatherService, transport);
    const readings = [10, 20, 30].map((t, i) =>
      create(WeatherResponseSchema, { temperature: t, humidity: 50 + i, timestamp: BigInt(i + 1) }),
    );
    const summary = await client.reportBatch(createAsyncIterable(readings));
    expect(summary).toMatchObject({ temperature: 20, humidity: 51, description: "3 readings", timestamp: 3n });
  });

  it("talks both ways with WeatherChat and ends cleanly on half-close", async () => {
    const client = createClient(WeatherService, transport);
    const requests = createWritableIterable<GetWeatherRequest>();
    const seen: string[] = [];
    const chat = (async () => {
      for await (const r of client.weatherChat(requests)) {
        seen.push(r.description);
        if (seen.length === 1) await requests.write(create(GetWeatherRequestSchema, { cityCode: "SYD" }));
        if (seen.length === 4) requests.close();
      }
    })();
    await requests.write(create(GetWeatherRequestSchema, { cityCode: "NYC" }));
    await chat;
    expect(seen.length).toBeGreaterThanOrEqual(4);
  });

  it("maps server errors to their codes and keeps the connection for others", async () => {
    const client = createClient(WeatherService, transport);
    const bad = await client.getWeather({ cityCode: "XXX" }).catch((e: unknown) => ConnectError.from(e));
    expect(bad).toMatchObject({ code: Code.InvalidArgument });
    const empty = await client.reportBatch(createAsyncIterable([])).catch((e: unknown) => ConnectError.from(e));
    expect(empty).toMatchObject({ code: Code.InvalidArgument });
    expect((await client.getWeather({ cityCode: "PAR" })).timestamp).toBeGreaterThan(0n);
  });

  it("carries 100 concurrent mixed calls over one connection", async () => {
    const client = createClient(WeatherService, transport);
    const calls = Array.from({ length: 100 }, async (_, i) => {
      if (i % 4 === 0)
        return (await client.reportBatch(createAsyncIterable([create(WeatherResponseSchema, { temperature: i, timestamp: 1n })])))
          .temperature;
      if (i % 4 === 1) {
        const abort = new AbortController();
        for await (const r of client.subscribeWeather({ cityCode: "BER" }, { signal: abort.signal })) {
          abort.abort();
          return r.temperature;
        }
        return NaN;
      }
      return (await client.getWeather({ cityCode: "ROM" })).temperature;
    });
    const results = await Promise.allSettled(calls);
    const fulfilled = results.filter((r) => r.status === "fulfilled").length;
    const cancelled = results.filter((r) => r.status === "rejected" && ConnectError.from(r.reason).code === Code.Canceled).length;
    expect(fulfilled + cancelled).toBe(100);
    expect(fulfilled).toBeGreaterThanOrEqual(75);
  });

  it("enforces a deadline", async () => {
    const client = createClient(WeatherService, transport);
    const error = await (async () => {
      for await (const _ of client.subscribeWeather({ cityCode: "NYC" }, { timeoutMs: 3 * TICK_MS })) {
        // keep reading until the deadline
      }
    })().catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.DeadlineExceeded });
  });
});
