import { setupServer } from "msw/node";
import { afterAll, beforeAll } from "vitest";
import { contractOnMocks } from "../contract-on-mocks.js";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: "error" }));
afterAll(() => server.close());

contractOnMocks((handlers) => server.use(...handlers));
