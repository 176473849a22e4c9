import type { Clock } from "../../src/clock.js";

/** A {@link Clock} that only moves when a test says so. */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms` and runs every timer that falls due, in order. */
  advance(ms: number): void;
  /**
   * Moves time forward by `ms` without running timers, as when the event loop
   * is busy and timers fire late; a later `advance(0)` runs the due ones.
   */
  jump(ms: number): void;
  /** Timers scheduled and not yet run or cleared. */
  readonly pendingTimers: number;
}

interface Timer {
  readonly id: number;
  readonly dueMs: number;
  readonly fn: () => void;
}

/** A fake clock starting at `startMs` (Unix epoch milliseconds). */
export function createFakeClock(startMs: number): FakeClock {
  let nowMs = startMs;
  let nextId = 1;
  let timers: Timer[] = [];
  return {
    now: () => nowMs,
    setTimeout(fn, delayMs) {
      const timer = { id: nextId++, dueMs: nowMs + Math.max(0, delayMs), fn };
      timers.push(timer);
      return timer.id;
    },
    clearTimeout(handle) {
      timers = timers.filter((t) => t.id !== handle);
    },
    advance(ms) {
      const targetMs = nowMs + ms;
      for (;;) {
        const due = timers.filter((t) => t.dueMs <= targetMs).sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
        if (due === undefined) break;
        timers = timers.filter((t) => t !== due);
        nowMs = Math.max(nowMs, due.dueMs);
        due.fn();
      }
      nowMs = targetMs;
    },
    jump(ms) {
      nowMs += ms;
    },
    get pendingTimers() {
      return timers.length;
    },
  };
}
