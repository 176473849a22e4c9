/**
 * The server side of the WebSocket tunnel (PROTOCOL.md §1).
 * @packageDocumentation
 */
export { createTunnelServer, rejectUpgrade, type TunnelServer } from "./create-tunnel-server.js";
export type { TunnelAuthenticate, TunnelOptions, TunnelServerOptions } from "./options.js";
export { CLOSE_CODE } from "./close-codes.js";
