import { create } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createAsyncIterable, createWritableIterable } from "@connectrpc/connect/protocol";
import { describe, expect, inject, it } from "vitest";
import { type GetWeatherRequest, GetWeatherRequestSchema, WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { createWebSocketTransport } from "../../src/transport/websocket/index.js";
import { expectStrictlyIncreasing, rejection } from "../helpers/assertions.js";

const serverUrl = inject("serverUrl");

describe("WebSocket tunnel in Chromium, from a page on another origin", () => {
  const transport = createWebSocketTransport({ url: `${serverUrl}/ws` });
  const client = createClient(WeatherService, transport);

  it("uses the browser's own WebSocket across origins", () => {
    expect(new URL(serverUrl).origin).not.toBe(location.origin);
    expect(typeof WebSocket).toBe("function");
  });

  it("does unary", async () => {
    const reading = await client.getWeather({ cityCode: "PAR" });
    expect(reading.timestamp).toBeGreaterThan(0n);
  });

  it("does server streaming", async () => {
    const abort = new AbortController();
    const seen: bigint[] = [];
    await expect(
      (async () => {
        for await (const r of client.subscribeWeather({ cityCode: "PAR" }, { signal: abort.signal })) {
          seen.push(r.timestamp);
          if (seen.length === 3) abort.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: Code.Canceled });
    expectStrictlyIncreasing(seen);
  });

  it("does client streaming, which fetch cannot", async () => {
    const summary = await client.reportBatch(
      createAsyncIterable(
        [1, 2, 3, 4].map((t) => create(WeatherResponseSchema, { temperature: t, humidity: 10 * t, timestamp: BigInt(t) })),
      ),
    );
    expect(summary).toMatchObject({ temperature: 2.5, humidity: 25, description: "4 readings", timestamp: 4n });
  });

  it("does bidi streaming, which fetch cannot", async () => {
    const requests = createWritableIterable<GetWeatherRequest>();
    let answers = 0;
    const chat = (async () => {
      for await (const _ of client.weatherChat(requests)) {
        answers++;
        if (answers === 1) await requests.write(create(GetWeatherRequestSchema, { cityCode: "BKK" }));
        if (answers === 3) requests.close();
      }
    })();
    await requests.write(create(GetWeatherRequestSchema, { cityCode: "DEL" }));
    await chat;
    expect(answers).toBeGreaterThanOrEqual(3);
  });

  it("reports server errors with their code", async () => {
    const error = await rejection(client.getWeather({ cityCode: "" }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/city_code is required/);
  });
});
