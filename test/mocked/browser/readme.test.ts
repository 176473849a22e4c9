// The "Testing your app" example of README.md, as it is there (test/mocked/node/readme-snippet.test.ts keeps the two equal).
import { setupWorker } from "msw/browser";
import { createWeatherClient } from "weather-sdk";
import { createMockClock, createWeatherMocks } from "weather-sdk/testing";
import { expect, it } from "vitest";

const clock = createMockClock();
const mocks = createWeatherMocks({ baseUrl: "https://weather.test", clock });
const worker = setupWorker(...mocks.handlers);
await worker.start({ quiet: true, onUnhandledFrame: "bypass" });

it("resumes after a drop with no reading lost or doubled", async () => {
  const sub = createWeatherClient({ baseUrl: "https://weather.test", clock }).subscribeWeather({ cityCode: "NYC" });
  const seen: bigint[] = [];
  sub.onMessage((r) => seen.push(r.timestamp));
  await expect.poll(() => seen).toHaveLength(1);
  mocks.dropConnections(); // cut every connection: the client reconnects and resumes
  await expect.poll(() => sub.state.kind).toBe("reconnecting");
  mocks.tick(3); // three readings while it is away
  clock.advance(500); // the first backoff (at most 500 ms), at once
  await expect.poll(() => seen.map((t) => t - (seen[0] ?? 0n))).toEqual([0n, 1000n, 2000n, 3000n]);
});
