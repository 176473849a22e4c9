/**
 * The WebSocket tunnel transport (PROTOCOL.md §1). Every other layer imports
 * it from here; src/index.ts re-exports only the public part.
 */
export { createWebSocketTransport, type WebSocketTransport } from "./websocket-transport.js";
export type { WebSocketTransportOptions } from "./options.js";
export type { WebSocketConstructor, WebSocketLike } from "./web-socket-like.js";

// For the SDK's own layers (the typed client and the subscription's fast path), not for users.
export { createTransportOnTunnel } from "./websocket-transport.js";
export { type ResolvedOptions, resolveOptions, toHeaderList } from "./options.js";
export { globalWebSocket } from "./web-socket-like.js";
export { createTunnelClient, type TunnelClient } from "./tunnel-client.js";
export { unaryOnTunnel } from "./tunnel-unary.js";
export type { ClientTunnelStream, StreamHandler } from "./stream-handler.js";
export { StreamNotProcessedError, wasNotProcessed } from "./client-tunnel.js";
