// Options are checked when the server is created, not on the first call.
import { describe, expect, it } from "vitest";
import { createWeatherServer } from "../../src/server/index.js";

describe("createWeatherServer options", () => {
  it.each([0, -5, 12.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses tickMs %s with a RangeError", (tickMs) => {
    expect(() => createWeatherServer({ tickMs })).toThrow(RangeError);
  });

  it.each([{ historyWindowMs: 0 }, { maxReportBatch: -1 }])("refuses %j with a RangeError", (options) => {
    expect(() => createWeatherServer(options)).toThrow(RangeError);
  });

  it("accepts whole-millisecond ticks", () => {
    expect(() => createWeatherServer({ tickMs: 1 })).not.toThrow();
  });
});
