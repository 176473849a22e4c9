/**
 * The server side of the WebSocket tunnel (PROTOCOL.md §1), runtime-neutral.
 * @packageDocumentation
 */
export { createTunnelHandler, type TunnelHandler, type TunnelPeer } from "./tunnel-handler.js";
export type { TunnelAuthenticate, TunnelHandlerOptions, TunnelOptions, TunnelServerOptions } from "./options.js";
export type { TunnelSocket, TunnelMessageEvent } from "./socket.js";
export type { AllowedOrigins } from "./origins.js";
export { isOriginAllowed } from "./origins.js";
export { CLOSE_CODE } from "./close-codes.js";
