import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWeatherClient, type TransportKind } from "../../../src/index.js";
import { createMockClock, createWeatherMocks } from "../../../src/testing/index.js";
import { irregularSteps, watch } from "../watch.js";

const baseUrl = "http://weather.test";
const clock = createMockClock();
const mocks = createWeatherMocks({ baseUrl, clock });
const server = setupServer(...mocks.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => mocks.reset());
afterAll(async () => {
  server.close();
  await mocks.close();
});

describe.each<TransportKind>(["websocket", "connect", "grpc-web", "sse"])("mocked subscribeWeather over %s (Node)", (transport) => {
  it("reconnects after a drop with no reading lost or doubled", async () => {
    const weather = createWeatherClient({ baseUrl, transports: [transport], clock, random: () => 0.5 });
    const sub = weather.subscribeWeather({ cityCode: "NYC" });
    const w = watch(sub);
    await w.state("open", true);
    await w.untilReadings(1);
    mocks.tick();
    await w.untilReadings(2);
    mocks.dropConnections();
    const reconnecting = await w.state("reconnecting");
    mocks.tick(2); // readings the client misses while away
    clock.advance(reconnecting.delayMs);
    const open = await w.state("open");
    expect(open).toMatchObject({ recovered: true, transport });
    await w.untilReadings(4);
    mocks.tick();
    await w.untilReadings(5);
    expect(irregularSteps(w.readings, mocks.tickMs)).toEqual([]);
    expect(w.readings).toHaveLength(5);
    sub.close();
    weather.close();
  });
});
