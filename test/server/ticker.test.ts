import { describe, expect, it } from "vitest";
import { createTicker } from "../../src/server/weather/ticker.js";
import { createFakeClock } from "../helpers/fake-clock.js";

const TICK_MS = 100;
const START_MS = 1_800_000_000_000; // a tick boundary

/** Settles pending promise callbacks. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function tracked(p: Promise<void>): { readonly state: "pending" | "resolved" | "rejected"; readonly reason: unknown } {
  const t = { state: "pending" as "pending" | "resolved" | "rejected", reason: undefined as unknown };
  p.then(
    () => (t.state = "resolved"),
    (e: unknown) => {
      t.state = "rejected";
      t.reason = e;
    },
  );
  return t;
}

describe("ticker", () => {
  it("wakes every waiter of a tick from one timer, in one callback", async () => {
    const clock = createFakeClock(START_MS + 10);
    const ticker = createTicker(clock, TICK_MS);
    const next = START_MS / TICK_MS + 1;
    const waits = Array.from({ length: 1000 }, () => tracked(ticker.waiter(new AbortController().signal).until(next)));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(TICK_MS - 11);
    await settle();
    expect(waits.every((w) => w.state === "pending")).toBe(true);
    clock.advance(1);
    await settle();
    expect(waits.every((w) => w.state === "resolved")).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it("answers at once, with no timer, for a tick that has already started", async () => {
    const clock = createFakeClock(START_MS + 10);
    const wait = tracked(
      createTicker(clock, TICK_MS)
        .waiter(new AbortController().signal)
        .until(START_MS / TICK_MS),
    );
    await settle();
    expect(wait.state).toBe("resolved");
    expect(clock.pendingTimers).toBe(0);
  });

  it("arms for the earliest tick waited for, then for the next", async () => {
    const clock = createFakeClock(START_MS);
    const ticker = createTicker(clock, TICK_MS);
    const t0 = START_MS / TICK_MS;
    const later = tracked(ticker.waiter(new AbortController().signal).until(t0 + 3));
    const sooner = tracked(ticker.waiter(new AbortController().signal).until(t0 + 1));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(TICK_MS);
    await settle();
    expect([sooner.state, later.state]).toEqual(["resolved", "pending"]);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(2 * TICK_MS);
    await settle();
    expect(later.state).toBe("resolved");
  });

  it("wakes waiters of every tick that passed when its timer ran late", async () => {
    const clock = createFakeClock(START_MS);
    const ticker = createTicker(clock, TICK_MS);
    const t0 = START_MS / TICK_MS;
    const a = tracked(ticker.waiter(new AbortController().signal).until(t0 + 1));
    const b = tracked(ticker.waiter(new AbortController().signal).until(t0 + 2));
    clock.jump(2 * TICK_MS); // the event loop was busy
    clock.advance(0);
    await settle();
    expect([a.state, b.state]).toEqual(["resolved", "resolved"]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("rejects a wait with the signal's reason when the call aborts, and clears the timer nobody needs", async () => {
    const clock = createFakeClock(START_MS);
    const ticker = createTicker(clock, TICK_MS);
    const abort = new AbortController();
    const waiter = ticker.waiter(abort.signal);
    const wait = tracked(waiter.until(START_MS / TICK_MS + 1));
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error("gone");
    abort.abort(reason);
    await settle();
    expect(wait).toMatchObject({ state: "rejected", reason });
    expect(clock.pendingTimers).toBe(0);
    const again = tracked(waiter.until(START_MS / TICK_MS + 1));
    await settle();
    expect(again).toMatchObject({ state: "rejected", reason });
  });

  it("dispose drops a pending wait and leaves the other waiters alone", async () => {
    const clock = createFakeClock(START_MS);
    const ticker = createTicker(clock, TICK_MS);
    const next = START_MS / TICK_MS + 1;
    const gone = ticker.waiter(new AbortController().signal);
    const goneWait = tracked(gone.until(next));
    const stays = tracked(ticker.waiter(new AbortController().signal).until(next));
    gone.dispose();
    expect(clock.pendingTimers).toBe(1);
    clock.advance(TICK_MS);
    await settle();
    expect([goneWait.state, stays.state]).toEqual(["pending", "resolved"]);
    const alone = ticker.waiter(new AbortController().signal);
    void alone.until(next + 1);
    alone.dispose();
    expect(clock.pendingTimers).toBe(0);
    await expect(alone.until(next + 2)).rejects.toThrow(/disposed/);
    expect(clock.pendingTimers).toBe(0);
  });
});
