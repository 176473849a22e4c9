// The ticker under test with no server: msw serves the weather on every
// transport, and the mock clock moves time, so nothing here waits for real time.
import { setupWorker } from "msw/browser";
import { createMockClock, createWeatherMocks, forwardStreamCancels } from "weather-sdk/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountTicker } from "../src/ticker.js";

const baseUrl = "https://weather.example.test";
const clock = createMockClock();
const mocks = createWeatherMocks({ baseUrl, clock });
const worker = setupWorker(...mocks.handlers);
forwardStreamCancels(worker);
beforeAll(() => worker.start({ quiet: true, onUnhandledFrame: "bypass" }));
afterAll(() => worker.stop());

/** Resolves once the page shows what `check` looks for (the page changes on events, not on a timer). */
function shown(root: HTMLElement, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (check()) {
      resolve();
      return;
    }
    const observer = new MutationObserver(() => {
      if (!check()) return;
      observer.disconnect();
      resolve();
    });
    observer.observe(root, { subtree: true, childList: true, characterData: true });
  });
}

const text = (root: HTMLElement, selector: string) => root.querySelector(selector)?.textContent ?? "";
const timestamps = (root: HTMLElement) => [...root.querySelectorAll("li")].map((li) => Number(li.dataset["timestamp"])).reverse();

describe.each(["websocket", "connect", "grpc-web", "sse"] as const)("the ticker over %s", (transport) => {
  it("shows a reconnect after the connection drops, with no reading lost or doubled", async () => {
    const root = document.body.appendChild(document.createElement("section"));
    const stop = mountTicker(root, { baseUrl, cityCode: "NYC", transports: [transport], clock, random: () => 0.5 });
    await shown(root, () => text(root, "[role=status]") === `live over ${transport}` && timestamps(root).length === 1);
    mocks.tick();
    await shown(root, () => timestamps(root).length === 2);

    mocks.dropConnections();
    await shown(root, () => text(root, "[role=status]").startsWith("reconnecting"));
    mocks.tick(2); // two readings while the ticker is away
    clock.advance(500); // the first backoff (at most 500 ms), with no real waiting
    await shown(root, () => text(root, ".reconnects") === "reconnected 1 time" && timestamps(root).length === 4);

    const shownTimes = timestamps(root);
    expect(new Set(shownTimes).size).toBe(shownTimes.length);
    expect(shownTimes.slice(1).map((t, i) => t - (shownTimes[i] ?? 0))).toEqual([mocks.tickMs, mocks.tickMs, mocks.tickMs]);
    stop();
    root.remove();
  });
});
