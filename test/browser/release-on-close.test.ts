// In Chromium: closing subscriptions and the client releases the client's
// timers, WebSockets, fetch bodies and lifecycle listeners on every transport
// (counted through injected parts; the Node test also counts the server's side).
import { describe, expect, inject, it } from "vitest";
import type { TransportKind } from "../../src/index.js";
import { clientLetGo, closeThreeWays, openThreeSubscriptions } from "../robustness/release-scenario.js";

const baseUrl = inject("serverUrl");
const TRANSPORTS: readonly TransportKind[] = ["websocket", "connect", "grpc-web", "sse"];

describe.each(TRANSPORTS)("in Chromium over %s", (transport) => {
  it("closing subscriptions and the client leaves no timer, WebSocket, fetch body or listener behind", async () => {
    const scenario = await openThreeSubscriptions(baseUrl, transport);
    expect(scenario.counting.held().lifecycleListeners).toBe(3);
    await closeThreeWays(scenario);
    await clientLetGo(scenario);
    expect(scenario.subs.map((s) => s.state.kind)).toEqual(["closed", "closed", "closed"]);
  });
});
