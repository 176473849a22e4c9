import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { createSseTransport } from "../../src/transport/sse/create-sse-transport.js";
import { createWebSocketTransport } from "../../src/transport/websocket/index.js";
import { transportContract } from "./transport-contract.js";

// One line per transport: the contract suite proves it.
transportContract("WebSocket tunnel", (baseUrl) => createWebSocketTransport({ url: `${baseUrl}/ws` }), {
  clientStreaming: true,
  bidiStreaming: true,
});
transportContract("Connect (connect-web)", (baseUrl) => createConnectTransport({ baseUrl, useBinaryFormat: true }), {
  clientStreaming: false,
  bidiStreaming: false,
});
transportContract("gRPC-Web (connect-web)", (baseUrl) => createGrpcWebTransport({ baseUrl }), {
  clientStreaming: false,
  bidiStreaming: false,
});
transportContract("SSE", (baseUrl) => createSseTransport({ baseUrl }), { clientStreaming: false, bidiStreaming: false });
