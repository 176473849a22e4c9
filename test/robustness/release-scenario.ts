// The scenario of the release-on-close tests, in Node (test/robustness) and in Chromium (test/browser): a
// client whose timers, WebSockets, fetches and lifecycle listeners are counted, three subscriptions that
// have each had a reading, then closed the three ways an app closes them.
import { createWeatherClient, type TransportKind, type WeatherClient } from "../../src/index.js";
import { type Counting, createCounting, eventually, NOTHING_HELD } from "./counting.js";

/** A counted client and its three open subscriptions (NYC, LON, TYO). */
export interface ReleaseScenario {
  readonly counting: Counting;
  readonly weather: WeatherClient;
  readonly subs: readonly ReturnType<WeatherClient["subscribeWeather"]>[];
}

/** Opens the client on `transport` alone, and the three subscriptions; resolves once each has had a reading. */
export async function openThreeSubscriptions(baseUrl: string, transport: TransportKind): Promise<ReleaseScenario> {
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
  return { counting, weather, subs };
}

/**
 * Closes the first subscription with `close()`, the second by leaving a
 * `for await` loop, then, after `beforeClientClose`, the client (which closes the third).
 */
export async function closeThreeWays(scenario: ReleaseScenario, beforeClientClose?: () => Promise<void>): Promise<void> {
  scenario.subs[0]?.close();
  for await (const _ of scenario.subs[1] ?? []) break;
  await beforeClientClose?.();
  scenario.weather.close();
}

/** Resolves once the client holds no timer, WebSocket, fetch body or lifecycle listener. */
export function clientLetGo(scenario: ReleaseScenario): Promise<void> {
  return eventually("the client to let go of everything", () => JSON.stringify(scenario.counting.held()) === JSON.stringify(NOTHING_HELD));
}
