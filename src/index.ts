/**
 * weather-sdk: the browser-first client for `weather.WeatherService`.
 * This entry never imports Node modules; the reference server lives in
 * `weather-sdk/server`, the SSE transport in `weather-sdk/sse`.
 *
 * Readings are protobuf messages whose `timestamp` is a `bigint`, so
 * `JSON.stringify(reading)` throws; serialise one with protobuf's JSON
 * mapping: `toJson(WeatherResponseSchema, reading)` (and read it back with
 * `fromJson(WeatherResponseSchema, json)`), both from `@bufbuild/protobuf`.
 * @packageDocumentation
 */
export * from "./gen/weather_pb.js";
export { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER, type ResumeStatus } from "./codec/resume.js";
export { type Clock, systemClock } from "./clock.js";
export type { CredentialsMode, HeadersInput } from "./fetch-types.js";
export { createWeatherClient, type WeatherClient } from "./client.js";
export type { SubscribeOptions, WeatherCallOptions, WeatherClientOptions } from "./client-options.js";
export type { AuthCredentials, AuthOption, AuthRequest } from "./transport/auth.js";
export type { Subscription } from "./subscription/subscription.js";
export type { SubscriptionState, TransportKind } from "./subscription/state.js";
export { alwaysActive, browserLifecycle, type PageLifecycle } from "./subscription/page-lifecycle.js";
export { DEFAULT_RECONNECT_POLICY, type ReconnectPolicy } from "./subscription/backoff.js";
export {
  createWebSocketTransport,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketTransport,
  type WebSocketTransportOptions,
} from "./transport/websocket/index.js";
export { isTransportOpenFailure, TransportOpenError } from "./transport/open-error.js";
