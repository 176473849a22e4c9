import { expect, it } from "vitest";
import { createWeatherMocks } from "../../../src/testing/index.js";

it("fresh mocks per test on one baseUrl share msw's ws.link: no MaxListenersExceededWarning past 10", async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => {
    if (warning.name === "MaxListenersExceededWarning") warnings.push(warning.message);
  };
  process.on("warning", onWarning);
  try {
    for (let i = 0; i < 15; i++) {
      const mocks = createWeatherMocks({ baseUrl: "http://one-app.test" });
      expect(mocks.handlers).toHaveLength(2);
      await mocks.close();
    }
    // Node emits the warning on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", onWarning);
  }
  expect(warnings).toEqual([]);
});
