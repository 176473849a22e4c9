/**
 * One authentication hook for every transport of the server (Connect, gRPC,
 * gRPC-Web, the WebSocket tunnel, SSE), runtime-neutral.
 * @packageDocumentation
 */
export { type Authenticate, authenticateHeaders, authenticatedValues, createAuthInterceptor, PRINCIPAL } from "./authenticate.js";
export { createSseTickets, type IssuedTicket, type SseTicketOptions, type SseTickets } from "./sse-tickets.js";
