import { setupWorker } from "msw/browser";
import { afterAll, beforeAll } from "vitest";
import { contractOnMocks } from "../contract-on-mocks.js";

const worker = setupWorker();
beforeAll(() => worker.start({ quiet: true, onUnhandledFrame: "bypass" }));
afterAll(() => worker.stop());

contractOnMocks((handlers) => worker.use(...handlers));
