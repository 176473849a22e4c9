import { ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";

/** Asserts each value is greater than the one before (cursors, timestamps). */
export function expectStrictlyIncreasing(values: readonly bigint[]): void {
  values.forEach((value, i) => {
    if (i > 0) expect(value, `value ${i} of ${values.join(", ")}`).toBeGreaterThan(values[i - 1] ?? -1n);
  });
}

/** Awaits a call that must fail and returns its error as a ConnectError (fails the test if it succeeded). */
export async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (e) {
    return ConnectError.from(e);
  }
  return expect.fail("the call succeeded, but it should have failed");
}
