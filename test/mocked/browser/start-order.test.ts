// msw replaces the page's WebSocket when the worker starts: the SDK looks the
// constructor up when it connects, so a client made before worker.start() is
// mocked as well as one made after.
import { setupWorker } from "msw/browser";
import { afterAll, describe, expect, it } from "vitest";
import { createWeatherClient } from "../../../src/index.js";
import { createWeatherMocks } from "../../../src/testing/index.js";

const baseUrl = "http://start-order.test";
const mocks = createWeatherMocks({ baseUrl, tickMs: 50 });
const worker = setupWorker(...mocks.handlers);
afterAll(async () => {
  await worker.stop();
  await mocks.close();
});

describe("the order of worker.start() and createWeatherClient does not matter", () => {
  it("a client made before the worker started goes through the mocks", async () => {
    const early = createWeatherClient({ baseUrl, transports: ["websocket"] });
    const nativeWebSocket = globalThis.WebSocket;
    await worker.start({ quiet: true, onUnhandledFrame: "bypass" });
    expect(globalThis.WebSocket).not.toBe(nativeWebSocket);
    expect((await early.getWeather({ cityCode: "NYC" })).timestamp).toBeGreaterThan(0n);
    expect(mocks.openConnections("websocket")).toBe(1);
    early.close();
  });

  it("a client made after the worker started goes through the mocks", async () => {
    const late = createWeatherClient({ baseUrl, transports: ["websocket"] });
    const sub = late.subscribeWeather({ cityCode: "LON" });
    for await (const reading of sub) {
      expect(reading.timestamp).toBeGreaterThan(0n);
      break;
    }
    late.close();
  });
});
