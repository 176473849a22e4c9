import { setupWorker } from "msw/browser";
import { afterAll, beforeAll } from "vitest";
import { forwardStreamCancels } from "../../../src/testing/index.js";
import { mockedScenarios } from "../scenarios.js";
import { serviceMocksTests } from "../service-mocks.js";

// One worker for the file; each scenario adds the handlers of its own mocks (a host of its own).
const worker = setupWorker();
forwardStreamCancels(worker);
beforeAll(() => worker.start({ quiet: true, onUnhandledFrame: "bypass" }));
afterAll(() => worker.stop());

mockedScenarios("Chromium, msw setupWorker", (handlers) => worker.use(...handlers));
serviceMocksTests("Chromium, msw setupWorker", (handlers) => worker.use(...handlers));
