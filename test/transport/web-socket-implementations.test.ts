import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WS from "ws";
import { createWebSocketTransport, type WebSocketConstructor, WeatherService } from "../../src/index.js";
import type { WeatherServer } from "../../src/server/index.js";
import { startServer } from "../helpers/server.js";

let server: WeatherServer & { url: string };
beforeAll(async () => {
  server = await startServer({ tickMs: 50 });
});
afterAll(() => server.close());

// Each is passed as `webSocket` with its own typings, no cast: this file also fails typecheck if they stop fitting.
describe.each<[string, WebSocketConstructor]>([
  ["the global WebSocket", WebSocket],
  ["the ws package", WS],
])("createWebSocketTransport with %s", (_name, webSocket) => {
  it("makes calls", async () => {
    const transport = createWebSocketTransport({ url: `${server.url}/ws`, webSocket });
    const reading = await createClient(WeatherService, transport).getWeather({ cityCode: "AKL" });
    expect(reading.timestamp).toBeGreaterThan(0n);
    transport.close();
  });
});
