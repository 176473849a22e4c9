// The client's answers when every transport fails, and moving a live
// subscription to another transport with `after` (what the demo page's
// transport switch does), against the real server.
import { createServer } from "node:net";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWeatherClient, isTransportOpenFailure, type Subscription, type WeatherResponse } from "../../src/index.js";
import type { WeatherServer } from "../../src/server/index.js";
import { rejection } from "../helpers/assertions.js";
import { startServer } from "../helpers/server.js";

const TICK_MS = 20;
let server: WeatherServer & { url: string };

beforeAll(async () => {
  server = await startServer({ tickMs: TICK_MS });
});
afterAll(() => server.close());

/** A URL on which nothing listens: a port taken and given back. */
async function deadUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${address.port}`;
}

/** Resolves with the first `count` readings `sub` delivers after this call. */
function next(sub: Subscription<WeatherResponse>, count: number): Promise<bigint[]> {
  return new Promise((resolve) => {
    const got: bigint[] = [];
    const stop = sub.onMessage((r) => {
      got.push(r.timestamp);
      if (got.length === count) {
        stop();
        resolve(got);
      }
    });
  });
}

describe("a call that no transport can open", () => {
  it("names every transport tried and why each failed, with code Unavailable", async () => {
    const baseUrl = await deadUrl();
    const weather = createWeatherClient({ baseUrl, transports: ["websocket", "connect", "sse"] });
    const error = await rejection(weather.getWeather({ cityCode: "NYC" }));
    expect(error.code).toBe(Code.Unavailable);
    expect(isTransportOpenFailure(error)).toBe(true);
    expect(error.rawMessage).toMatch(/^no transport could open \(tried websocket, connect, sse\): websocket: .+; connect: .+; sse: .+$/);
    expect(error.rawMessage).toContain(`could not open a WebSocket to ${baseUrl.replace("http", "ws")}/ws`);
    weather.close();
  });

  it("keeps the one transport's own error when only one was listed", async () => {
    const weather = createWeatherClient({ baseUrl: await deadUrl(), transports: ["connect"] });
    const error = await rejection(weather.getWeather({ cityCode: "NYC" }));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).not.toMatch(/no transport could open/);
  });
});

describe("moving a live subscription to another transport", () => {
  it("resumes on the new client after the old one's cursor: every tick once, none twice", async () => {
    const overWebSocket = createWeatherClient({ baseUrl: server.url, transports: ["websocket"] });
    const first = overWebSocket.subscribeWeather({ cityCode: "NYC" });
    const before = await next(first, 3);
    const cursor = first.cursor;
    first.close();
    // Readings keep ticking while nothing listens; the new subscription gets them from the server's history.
    const overSse = createWeatherClient({ baseUrl: server.url, transports: ["sse"] });
    const second = overSse.subscribeWeather({ cityCode: "NYC" }, { after: cursor });
    const states: string[] = [];
    second.onState((s) => states.push(s.kind === "open" ? `open:${s.transport}:${String(s.recovered)}` : s.kind));
    const after = await next(second, 5);
    second.close();
    const all = [...before, ...after];
    for (let i = 1; i < all.length; i++) expect(all[i]).toBe((all[i - 1] ?? 0n) + BigInt(TICK_MS));
    expect(states).toContain("open:sse:true");
    overWebSocket.close();
    overSse.close();
  });
});
