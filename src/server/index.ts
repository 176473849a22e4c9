/**
 * The reference server for `weather.WeatherService` (Node only).
 * @packageDocumentation
 */
export { createWeatherServer, type WeatherServer, type WeatherServerOptions } from "./create-weather-server.js";
export type { AllowedOrigins } from "./cors.js";
export { createWeatherServiceImpl, REPORT_CITY_HEADER, type WeatherServiceConfig } from "./weather/weather-service.js";
export type { Replay, SourceReading, WeatherSource } from "./weather/weather-source.js";
export { createSimulatedSource, type SimulatedSourceOptions } from "./weather/simulated-source.js";
export { createRedisWeatherSource, type RedisWeatherSource, type RedisWeatherSourceOptions } from "./redis/redis-source.js";
export { CITIES, type City, readingAt, tickAt } from "../simulation/index.js";
export { createSseRoute, type SseRouteOptions } from "./sse/sse-route.js";
export { sseResume, type SseResume, type SseResumeOptions } from "./sse/sse-resume.js";
export { createWeatherSseRoute, type WeatherSseRouteOptions } from "./sse/weather-sse-route.js";
export type { RouteHandler } from "./http-handler.js";
export { directService, type DirectService } from "./direct-call.js";
export {
  createTunnelServer,
  type TunnelAuthenticate,
  type TunnelOptions,
  type TunnelServer,
  type TunnelServerOptions,
} from "./tunnel/index.js";
