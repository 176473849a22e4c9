/** How a subscription waits between reconnect attempts. */
export interface ReconnectPolicy {
  /** Upper bound of the first delay. Default 500. */
  readonly initialDelayMs: number;
  /** Cap of every delay. Default 30000. */
  readonly maxDelayMs: number;
  /** Growth of the bound per attempt. Default 2. */
  readonly multiplier: number;
  /** Give up (close with the last error) after this many failed attempts in a row. Default Infinity. */
  readonly maxAttempts: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  multiplier: 2,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/**
 * Exponential backoff with full jitter: a uniformly random delay between 0 and
 * `min(maxDelayMs, initialDelayMs * multiplier^(attempt-1))`, so many clients
 * cut off at once do not come back at once. `attempt` counts from 1;
 * `random` returns a number in [0, 1).
 */
export function backoffDelayMs(policy: ReconnectPolicy, attempt: number, random: () => number): number {
  const exponent = Math.max(0, attempt - 1);
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  return Math.floor(random() * bound);
}

/** Checks a user's policy at the boundary and fills in defaults. */
export function resolveReconnectPolicy(partial: Partial<ReconnectPolicy> | undefined): ReconnectPolicy {
  const policy = { ...DEFAULT_RECONNECT_POLICY, ...partial };
  if (
    !(policy.initialDelayMs >= 0) ||
    !(policy.maxDelayMs >= policy.initialDelayMs) ||
    !(policy.multiplier >= 1) ||
    !(policy.maxAttempts >= 1)
  ) {
    throw new RangeError(
      `reconnect policy needs 0 ≤ initialDelayMs ≤ maxDelayMs, multiplier ≥ 1 and maxAttempts ≥ 1; got ${JSON.stringify(policy)}`,
    );
  }
  return policy;
}
