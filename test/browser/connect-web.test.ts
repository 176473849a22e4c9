import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { describe, expect, inject, it } from "vitest";
import { WeatherService } from "../../src/gen/weather_pb.js";
import { expectStrictlyIncreasing } from "../helpers/assertions.js";

const baseUrl = inject("serverUrl");

describe.each([
  ["Connect", createConnectTransport],
  ["gRPC-Web", createGrpcWebTransport],
] as const)("connect-web %s from a page on another origin", (_name, createTransport) => {
  const client = createClient(WeatherService, createTransport({ baseUrl }));

  it("is really cross-origin", () => {
    expect(new URL(baseUrl).origin).not.toBe(location.origin);
  });

  it("calls GetWeather", async () => {
    const reading = await client.getWeather({ cityCode: "LON" });
    expect(reading.timestamp).toBeGreaterThan(0n);
    expect(reading.description.length).toBeGreaterThan(0);
  });

  it("streams SubscribeWeather with strictly increasing timestamps", async () => {
    const abort = new AbortController();
    const seen: bigint[] = [];
    try {
      for await (const r of client.subscribeWeather({ cityCode: "TYO" }, { signal: abort.signal })) {
        seen.push(r.timestamp);
        if (seen.length === 3) abort.abort();
      }
    } catch (e) {
      expect(ConnectError.from(e).code).toBe(Code.Canceled);
    }
    expect(seen).toHaveLength(3);
    expectStrictlyIncreasing(seen);
  });

  it("reports an unknown city as InvalidArgument", async () => {
    const error = await client.getWeather({ cityCode: "ZZZ" }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
  });
});
