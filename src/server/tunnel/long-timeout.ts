import type { Clock } from "../../clock.js";

/** The longest delay JavaScript timers take; a longer one fires at once (Node warns `TimeoutOverflowWarning`). */
export const MAX_TIMER_DELAY_MS = 0x7fff_ffff;

/**
 * Calls `fn` once `delayMs` have passed on `clock`, for any delay: a delay
 * over {@link MAX_TIMER_DELAY_MS} is waited in steps, each re-armed until the
 * deadline. Returns the function that cancels it.
 */
export function setLongTimeout(clock: Clock, fn: () => void, delayMs: number): () => void {
  const deadline = clock.now() + delayMs;
  let handle: unknown;
  const arm = (remaining: number): void => {
    handle = clock.setTimeout(
      () => {
        const left = deadline - clock.now();
        if (left > 0) arm(left);
        else fn();
      },
      Math.min(remaining, MAX_TIMER_DELAY_MS),
    );
  };
  arm(delayMs);
  return () => clock.clearTimeout(handle);
}
