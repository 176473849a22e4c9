// The transport contract suite against the mocks: the same assertions that
// hold against the real server must hold against createWeatherMocks.
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import type { MockHandlers } from "../../src/testing/index.js";
import { createWeatherMocks } from "../../src/testing/index.js";
import { createSseTransport } from "../../src/transport/sse/create-sse-transport.js";
import { createWebSocketTransport } from "../../src/transport/websocket/index.js";
import { type ContractTarget, TICK_MS, transportContract } from "../contract/transport-contract.js";

/** Runs the contract for every transport on mocks installed with `use` (msw's `worker.use` or `server.use`). */
export function contractOnMocks(use: (handlers: MockHandlers) => void): void {
  let next = 0;
  const mocked = (): Promise<ContractTarget> => {
    const url = `http://contract-${++next}.test`;
    const mocks = createWeatherMocks({ baseUrl: url, tickMs: TICK_MS });
    use(mocks.handlers);
    return Promise.resolve({ url, close: () => mocks.close() });
  };
  const noClientStreams = { clientStreaming: false, bidiStreaming: false };
  transportContract(
    "mocked WebSocket tunnel",
    (baseUrl) => createWebSocketTransport({ url: `${baseUrl}/ws` }),
    {
      clientStreaming: true,
      bidiStreaming: true,
    },
    mocked,
  );
  transportContract("mocked Connect", (baseUrl) => createConnectTransport({ baseUrl, useBinaryFormat: true }), noClientStreams, mocked);
  transportContract("mocked gRPC-Web", (baseUrl) => createGrpcWebTransport({ baseUrl }), noClientStreams, mocked);
  transportContract("mocked SSE", (baseUrl) => createSseTransport({ baseUrl }), noClientStreams, mocked);
}
