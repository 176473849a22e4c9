import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { createSseTransport } from "../../src/transport/sse/create-sse-transport.js";
import { createWebSocketTransport } from "../../src/transport/websocket/index.js";
import { startServer } from "../helpers/server.js";
import { TICK_MS, transportContract } from "./transport-contract.js";

const realServer = () => startServer({ tickMs: TICK_MS });

// One line per transport: the contract suite proves it.
transportContract(
  "WebSocket tunnel",
  (baseUrl) => createWebSocketTransport({ url: `${baseUrl}/ws` }),
  {
    clientStreaming: true,
    bidiStreaming: true,
  },
  realServer,
);
transportContract(
  "Connect (connect-web)",
  (baseUrl) => createConnectTransport({ baseUrl, useBinaryFormat: true }),
  {
    clientStreaming: false,
    bidiStreaming: false,
  },
  realServer,
);
transportContract(
  "gRPC-Web (connect-web)",
  (baseUrl) => createGrpcWebTransport({ baseUrl }),
  {
    clientStreaming: false,
    bidiStreaming: false,
  },
  realServer,
);
transportContract("SSE", (baseUrl) => createSseTransport({ baseUrl }), { clientStreaming: false, bidiStreaming: false }, realServer);
