import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { measureSubscriptionMemory } from "../../bench/memory/measure.js";
import { createFakeClock } from "../helpers/fake-clock.js";

/**
 * Guards the server's memory per subscription (issue 22) with generous
 * bounds: heap after full GCs with N subscriptions open and readings
 * flowing, minus without, over N; stand-in clients keep nothing per
 * subscription (bench/memory/), so all of it is the server's. Measured, not
 * timed: ticks come from a fake clock. `npm run bench -- --only=memory` gives
 * the figures and the breakdown by class (bench/README.md).
 *
 * Measured here at about 1.3 KB (tunnel) and 2.2 KB (SSE, without the HTTP
 * response) in Node 24; the async-generator path this replaced cost 4.1 and
 * 5.3 KB. The bounds sit between the two, so a per-subscriber generator,
 * feed, promise or signal listener coming back fails here.
 */
const SUBSCRIPTIONS = 4000;
const TICK_MS = 1000;
const START_MS = 1_800_000_000_000;

// A full GC on demand, without a command-line flag for the whole test run.
setFlagsFromString("--expose-gc");
(globalThis as { gc?: unknown }).gc ??= runInNewContext("gc");

describe("server memory per subscription", () => {
  it("a tunnel subscription stays under 3 KiB of heap with readings flowing", async () => {
    const m = await measureSubscriptionMemory("tunnel", SUBSCRIPTIONS, 4, TICK_MS, { clock: createFakeClock(START_MS + 10) });
    expect(m.delivered).toBeGreaterThanOrEqual(SUBSCRIPTIONS * 3);
    expect(m.bytesPerSubscription).toBeLessThan(3072);
  });

  it("an SSE subscription (route and call, without the HTTP response) stays under 4 KiB", async () => {
    const m = await measureSubscriptionMemory("sse", SUBSCRIPTIONS, 1, TICK_MS, { clock: createFakeClock(START_MS + 10) });
    expect(m.delivered).toBeGreaterThanOrEqual(SUBSCRIPTIONS * 3);
    expect(m.bytesPerSubscription).toBeLessThan(4096);
  });
});
