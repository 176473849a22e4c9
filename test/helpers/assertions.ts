import { expect } from "vitest";

/** Asserts each value is greater than the one before (cursors, timestamps). */
export function expectStrictlyIncreasing(values: readonly bigint[]): void {
  values.forEach((value, i) => {
    if (i > 0) expect(value, `value ${i} of ${values.join(", ")}`).toBeGreaterThan(values[i - 1] ?? -1n);
  });
}
