/**
 * The reference server for `weather.WeatherService`: the runtime-neutral core
 * (see `core.ts`) and its wiring to Node's HTTP servers and `ws`.
 * @packageDocumentation
 */
export * from "./core.js";
export { createWeatherServer, type ServerLimits, type WeatherServer, type WeatherServerOptions } from "./create-weather-server.js";
export { createSseRoute, createWeatherSseRoute } from "./http/sse-node-route.js";
export type { RouteHandler } from "./http/http-handler.js";
export { createTunnelServer, type TunnelServer } from "./http/ws-tunnel.js";
export type { TunnelServerOptions } from "./tunnel/options.js";
export { createRedisWeatherSource, type RedisWeatherSource, type RedisWeatherSourceOptions } from "./redis/redis-source.js";
