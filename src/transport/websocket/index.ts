export { createWebSocketTransport, type WebSocketTransport } from "./websocket-transport.js";
export type { WebSocketTransportOptions } from "./options.js";
export type { WebSocketConstructor, WebSocketLike } from "./web-socket-like.js";
