import type { Clock } from "../../src/clock.js";

/** A {@link Clock} that moves only when the test calls `advance`. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, running every timer that falls due, in time order. */
  advance(ms: number): void;
}

/** A manual clock starting at `startMs` (Unix epoch milliseconds). */
export function createManualClock(startMs: number): ManualClock {
  let nowMs = startMs;
  let nextId = 1;
  const timers = new Map<number, { dueMs: number; fn: () => void }>();
  return {
    now: () => nowMs,
    setTimeout(fn, delayMs) {
      const id = nextId++;
      timers.set(id, { dueMs: nowMs + Math.max(0, delayMs), fn });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const targetMs = nowMs + ms;
      for (;;) {
        let due: [number, { dueMs: number; fn: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].dueMs <= targetMs && (due === undefined || entry[1].dueMs < due[1].dueMs)) due = entry;
        }
        if (due === undefined) break;
        timers.delete(due[0]);
        nowMs = Math.max(nowMs, due[1].dueMs);
        due[1].fn();
      }
      nowMs = targetMs;
    },
  };
}
