/**
 * The reference server for `weather.WeatherService` (Node only).
 * @packageDocumentation
 */
export { createWeatherServer, type WeatherServer, type WeatherServerOptions } from "./create-weather-server.js";
export type { AllowedOrigins } from "./cors.js";
export { createWeatherServiceImpl, type WeatherServiceConfig } from "./weather-service.js";
export { CITIES, type City, readingAt, tickAt } from "../simulation/index.js";
