import type { Clock } from "../../clock.js";
import { tickAt } from "../../simulation/weather-model.js";

/**
 * Wakes the streams of a server at tick boundaries with one timer for all of
 * them. With a timer per stream, thousands of subscriptions woke in as many
 * timer callbacks; here they wake in one, so their readings leave in one
 * batch per connection, and no stream touches its abort signal per tick.
 */
export interface Ticker {
  /** A waiter for one call, listening to `signal` once for the call's life. */
  waiter(signal: AbortSignal): TickWaiter;
}

/** See {@link Ticker.waiter}. */
export interface TickWaiter {
  /** Resolves once tick `tick` has started; rejects with the signal's reason when it aborts. One wait at a time. */
  until(tick: number): Promise<void>;
  /** Stops listening to the signal and drops a pending wait; call when the call ends. Later waits reject. */
  dispose(): void;
}

interface Pending {
  readonly tick: number;
  resolve(): void;
  reject(reason: unknown): void;
}

/** A ticker on `clock` for ticks of `tickMs` (tick n starts at n × tickMs, Unix epoch ms). */
export function createTicker(clock: Clock, tickMs: number): Ticker {
  const waiting = new Map<number, Set<Pending>>();
  let timer: unknown;
  let armedFor: number | undefined;

  function arm(): void {
    let earliest: number | undefined;
    for (const tick of waiting.keys()) if (earliest === undefined || tick < earliest) earliest = tick;
    if (earliest === armedFor) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    armedFor = earliest;
    if (earliest !== undefined) timer = clock.setTimeout(fire, earliest * tickMs - clock.now());
  }

  function fire(): void {
    timer = undefined;
    armedFor = undefined;
    const current = tickAt(clock.now(), tickMs);
    for (const [tick, pending] of waiting) {
      if (tick > current) continue; // the timer ran a little early for the wall clock: wait on
      waiting.delete(tick);
      for (const p of pending) p.resolve();
    }
    arm();
  }

  function add(p: Pending): void {
    let set = waiting.get(p.tick);
    if (set === undefined) waiting.set(p.tick, (set = new Set()));
    set.add(p);
    if (armedFor === undefined || p.tick < armedFor) arm();
  }

  function remove(p: Pending): void {
    const set = waiting.get(p.tick);
    if (set === undefined || !set.delete(p) || set.size > 0) return;
    waiting.delete(p.tick);
    arm();
  }

  return {
    waiter(signal) {
      let current: Pending | undefined;
      let disposed = false;
      // Read once here and then kept by the listener: `aborted` of an AbortSignal.any() signal is slow to read in Node.
      let aborted = signal.aborted;
      const onAbort = () => {
        aborted = true;
        const p = current;
        if (p === undefined) return;
        current = undefined;
        remove(p);
        p.reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      return {
        until(tick) {
          if (disposed) return Promise.reject(new Error("this tick waiter was disposed"));
          if (aborted) return Promise.reject(signal.reason as Error);
          if (tickAt(clock.now(), tickMs) >= tick) return Promise.resolve();
          return new Promise<void>((resolve, reject) => {
            const p: Pending = {
              tick,
              resolve() {
                current = undefined;
                resolve();
              },
              reject,
            };
            current = p;
            add(p);
          });
        },
        dispose() {
          disposed = true;
          signal.removeEventListener("abort", onAbort);
          if (current !== undefined) remove(current);
          current = undefined;
        },
      };
    },
  };
}
