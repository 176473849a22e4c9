/**
 * The runtime-neutral core of the reference server: everything here runs
 * wherever a `WebSocket`-shaped socket and the fetch API exist (a browser
 * page, a worker, Deno, Bun, Node), with no `node:*` or `ws` import. Node's
 * `createWeatherServer` is wiring of these handlers to Node's servers.
 *
 * - {@link createWeatherRouter}: the `weather.WeatherService` implementation and its router;
 * - {@link createTunnelHandler}: the WebSocket tunnel over a {@link TunnelSocket};
 * - {@link createWeatherFetchHandler}: Connect, gRPC-Web and SSE as `(request: Request) => Promise<Response>`;
 * - {@link createSseFetchHandler}: the SSE route alone, for any service;
 * - {@link createAuthInterceptor}, {@link PRINCIPAL}, {@link createSseTickets}: one `authenticate` hook on every transport.
 * @packageDocumentation
 */
export { createWeatherRouter, type WeatherRouter, type WeatherRouterOptions } from "./weather/weather-router.js";
export { createWeatherFetchHandler, type WeatherFetchHandlerOptions } from "./weather/weather-fetch-handler.js";
export { weatherSseResume, type WeatherSseRouteOptions } from "./weather/weather-sse-route.js";
export {
  createWeatherPushImpl,
  createWeatherServiceImpl,
  REPORT_CITY_HEADER,
  type WeatherServiceConfig,
} from "./weather/weather-service.js";
export type { Replay, SourceReading, WeatherSource } from "./weather/weather-source.js";
export { createSimulatedSource, type SimulatedSourceOptions } from "./weather/simulated-source.js";
export {
  CLOSE_CODE,
  createTunnelHandler,
  isOriginAllowed,
  type AllowedOrigins,
  type TunnelAuthenticate,
  type TunnelHandler,
  type TunnelHandlerOptions,
  type TunnelMessageEvent,
  type TunnelOptions,
  type TunnelPeer,
  type TunnelSocket,
} from "./tunnel/index.js";
export { createSseFetchHandler, type FetchHandler } from "./sse/sse-fetch-handler.js";
export type { SseRouteOptions } from "./sse/sse-route.js";
export { sseResume, type SseResume, type SseResumeOptions } from "./sse/sse-resume.js";
export {
  type Authenticate,
  createAuthInterceptor,
  createSseTickets,
  type IssuedTicket,
  PRINCIPAL,
  type SseTicketOptions,
  type SseTickets,
} from "./auth/index.js";
export { SSE_TICKET_PARAM, SSE_TICKET_PATH } from "./sse/sse-route.js";
export { directService, type DirectService, type PushImpl, type PushSink, type PushStream } from "./call/direct-call.js";
export { CITIES, type City, readingAt, tickAt } from "../simulation/index.js";
