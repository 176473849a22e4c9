import type { Clock } from "../clock.js";

/**
 * A {@link Clock} that moves only when a test says so. Give the same one to
 * the mocks (`createWeatherMocks({ clock })`) and to the SDK
 * (`createWeatherClient({ clock })`): advancing it delivers the next readings
 * and runs the client's backoff and keepalive timers, with no real waiting.
 */
export interface MockClock extends Clock {
  /** Moves time forward by `ms` and runs every timer that falls due, in time order. */
  advance(ms: number): void;
  /** Moves time to the next pending timer and runs it (and any due at the same time); false when none is pending. */
  runNext(): boolean;
  /**
   * Moves time forward by `ms` without running timers, as when a busy event loop
   * fires them late; a later `advance(0)` runs the ones now due.
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

/** Default start: 2026-01-01T00:00:00.250Z, a quarter into a second, so a reading pushed "now" falls between ticks. */
const DEFAULT_START_MS = Date.UTC(2026, 0, 1) + 250;

/**
 * Creates a {@link MockClock} at `startMs` (Unix epoch milliseconds).
 * @throws RangeError for a start that is not a whole number of milliseconds, zero or more.
 */
export function createMockClock(startMs: number = DEFAULT_START_MS): MockClock {
  if (!Number.isSafeInteger(startMs) || startMs < 0) {
    throw new RangeError(`createMockClock: startMs must be a whole number of epoch milliseconds, zero or more, got ${startMs}`);
  }
  let nowMs = startMs;
  let nextId = 1;
  let timers: Timer[] = [];

  function nextDue(upToMs: number): Timer | undefined {
    let first: Timer | undefined;
    for (const t of timers) {
      if (t.dueMs > upToMs) continue;
      if (first === undefined || t.dueMs < first.dueMs || (t.dueMs === first.dueMs && t.id < first.id)) first = t;
    }
    return first;
  }

  function run(timer: Timer): void {
    timers = timers.filter((t) => t !== timer);
    nowMs = Math.max(nowMs, timer.dueMs);
    timer.fn();
  }

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
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`MockClock.advance: ms must be zero or more, got ${ms}`);
      const targetMs = nowMs + ms;
      for (let due = nextDue(targetMs); due !== undefined; due = nextDue(targetMs)) run(due);
      nowMs = targetMs;
    },
    jump(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`MockClock.jump: ms must be zero or more, got ${ms}`);
      nowMs += ms;
    },
    runNext() {
      const first = nextDue(Number.POSITIVE_INFINITY);
      if (first === undefined) return false;
      const at = first.dueMs;
      for (let due = nextDue(at); due !== undefined; due = nextDue(at)) run(due);
      return true;
    },
    get pendingTimers() {
      return timers.length;
    },
  };
}

/** True for a clock made by {@link createMockClock} (or any clock a test can advance). */
export function isMockClock(clock: Clock): clock is MockClock {
  return typeof (clock as Partial<MockClock>).advance === "function";
}
