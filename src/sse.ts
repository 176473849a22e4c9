/**
 * weather-sdk/sse: the Server-Sent Events transport for connect's
 * `createClient`, for any protobuf service (unary and server streaming).
 * An entry of its own so that an app that does not use it never has it in
 * its bundle, whatever the bundler: `createWeatherClient` (the root entry)
 * loads it on demand when a call falls back to SSE.
 * @packageDocumentation
 */
export { createSseTransport, type SseTransportOptions } from "./transport/sse/create-sse-transport.js";
export type { CredentialsMode, HeadersInput } from "./fetch-types.js";
