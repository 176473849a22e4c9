// Watching a subscription from a test: every reading and state, and promises
// that resolve on the event a test waits for (never on time).
import type { Subscription, SubscriptionState, WeatherResponse } from "../../src/index.js";

export interface Watched {
  readonly readings: bigint[];
  readonly states: SubscriptionState[];
  /** Resolves once `count` readings arrived in all. */
  untilReadings(count: number): Promise<void>;
  /** Resolves with the next state of `kind` (or the current one if it is already of that kind and `current` is true). */
  state<K extends SubscriptionState["kind"]>(kind: K, current?: boolean): Promise<Extract<SubscriptionState, { kind: K }>>;
}

export function watch(sub: Subscription<WeatherResponse>): Watched {
  const readings: bigint[] = [];
  const states: SubscriptionState[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  sub.onMessage((r) => {
    readings.push(r.timestamp);
    notify();
  });
  sub.onState((s) => {
    states.push(s);
    notify();
  });
  function until<T>(check: () => T | undefined): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w = () => {
        const v = check();
        if (v === undefined) return;
        waiters.delete(w);
        resolve(v);
      };
      waiters.add(w);
    });
  }
  return {
    readings,
    states,
    untilReadings: (count) => until(() => (readings.length >= count ? true : undefined)).then(() => undefined),
    state(kind, current = false) {
      const from = current ? Math.max(0, states.length - 1) : states.length;
      type S = Extract<SubscriptionState, { kind: typeof kind }>;
      return until(() => states.slice(from).find((s): s is S => s.kind === kind));
    },
  };
}

/** The gaps between consecutive readings that are not exactly one tick. */
export function irregularSteps(readings: readonly bigint[], tickMs: number): string[] {
  return readings
    .slice(1)
    .map((t, i) => [readings[i] ?? 0n, t] as const)
    .filter(([a, b]) => b - a !== BigInt(tickMs))
    .map(([a, b]) => `${a}→${b}`);
}
