import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../codec/resume.js";
import { WeatherService } from "../../gen/weather_pb.js";
import type { RouteHandler } from "../http-handler.js";
import { createSseRoute, type SseRouteOptions } from "./sse-route.js";
import { type SseResume, sseResume } from "./sse-resume.js";

/**
 * `SubscribeWeather` resumes over SSE: each reading's `id:` is its timestamp
 * (Unix epoch milliseconds), and `Last-Event-ID` becomes `weather-resume-after`.
 */
export const weatherSseResume: SseResume = sseResume(WeatherService.method.subscribeWeather, {
  cursor: (reading) => reading.timestamp.toString(),
  resumeHeader: RESUME_AFTER_HEADER,
  resumeStatusHeader: RESUME_STATUS_HEADER,
});

/** Options of {@link createWeatherSseRoute}: those of {@link createSseRoute} but the handlers and resume list. */
export type WeatherSseRouteOptions = Omit<SseRouteOptions, "handlers" | "resume">;

/**
 * The reference server's SSE route: {@link createSseRoute} over the router's
 * handlers, with `SubscribeWeather` resumable by {@link weatherSseResume}.
 */
export function createWeatherSseRoute(handlers: readonly UniversalHandler[], options: WeatherSseRouteOptions = {}): RouteHandler {
  return createSseRoute({ ...options, handlers, resume: [weatherSseResume] });
}
