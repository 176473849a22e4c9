import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../codec/resume.js";
import { WeatherService } from "../../gen/weather_pb.js";
import type { SseRouteOptions } from "../sse/sse-route.js";
import { type SseResume, sseResume } from "../sse/sse-resume.js";

/**
 * `SubscribeWeather` resumes over SSE: each reading's `id:` is its timestamp
 * (Unix epoch milliseconds), and `Last-Event-ID` becomes `weather-resume-after`.
 */
export const weatherSseResume: SseResume = sseResume(WeatherService.method.subscribeWeather, {
  cursor: (reading) => reading.timestamp.toString(),
  resumeHeader: RESUME_AFTER_HEADER,
  resumeStatusHeader: RESUME_STATUS_HEADER,
});

/** Options of the reference server's SSE route: those of the generic route but the handlers and resume list. */
export type WeatherSseRouteOptions = Omit<SseRouteOptions, "handlers" | "resume">;

/** The SSE route options of the reference server: the router's handlers, `SubscribeWeather` resumable. */
export function weatherSseRouteOptions(handlers: readonly UniversalHandler[], options: WeatherSseRouteOptions = {}): SseRouteOptions {
  return { ...options, handlers, resume: [weatherSseResume] };
}
