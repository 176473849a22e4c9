import { setupServer } from "msw/node";
import { afterAll, beforeAll } from "vitest";
import { mockedScenarios } from "../scenarios.js";
import { serviceMocksTests } from "../service-mocks.js";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: "error" }));
afterAll(() => server.close());

mockedScenarios("Node, msw setupServer", (handlers) => server.use(...handlers));
serviceMocksTests("Node, msw setupServer", (handlers) => server.use(...handlers));
