// In Chromium: closing subscriptions and the client releases the client's
// timers, WebSockets, fetch bodies and lifecycle listeners on every transport
// (counted through injected parts; the Node test also counts the server's side).
import { describe, expect, inject, it } from "vitest";
import { createWeatherClient, type TransportKind } from "../../src/index.js";
import { createCounting, eventually, NOTHING_HELD } from "../robustness/counting.js";

const baseUrl = inject("serverUrl");
const TRANSPORTS: readonly TransportKind[] = ["websocket", "connect", "grpc-web", "sse"];

describe.each(TRANSPORTS)("in Chromium over %s", (transport) => {
  it("closing subscriptions and the client leaves no timer, WebSocket, fetch body or listener behind", async () => {
    const counting = createCounting();
    const weather = createWeatherClient({
      baseUrl,
      transports: [transport],
      clock: counting.clock,
      webSocket: counting.webSocket,
      fetch: counting.fetch,
      lifecycle: counting.lifecycle,
    });
    const subs = ["NYC", "LON", "TYO"].map((cityCode) => weather.subscribeWeather({ cityCode }));
    await Promise.all(subs.map((sub) => new Promise((resolve) => sub.onMessage(resolve))));
    expect(counting.held().lifecycleListeners).toBe(3);
    subs[0]?.close();
    for await (const _ of subs[1] ?? []) break;
    weather.close();
    await eventually("the client to let go of everything", () => JSON.stringify(counting.held()) === JSON.stringify(NOTHING_HELD));
    expect(subs.map((s) => s.state.kind)).toEqual(["closed", "closed", "closed"]);
  });
});
