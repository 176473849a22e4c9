/**
 * weather-sdk/websocket: the multiplexed WebSocket transport for connect's
 * `createClient`, for any protobuf service (all four call modes). An entry of
 * its own so that an app using only this transport bundles neither
 * `createWeatherClient` nor the fetch-based transports it loads on demand,
 * whatever the bundler (esbuild puts code shared with an on-demand chunk into
 * what loads at start). The root entry exports the same functions.
 * @packageDocumentation
 */
export {
  createWebSocketTransport,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketTransport,
  type WebSocketTransportOptions,
} from "./transport/websocket/index.js";
export type { HeadersInput } from "./fetch-types.js";
export { isTransportOpenFailure, TransportOpenError } from "./transport/open-error.js";
