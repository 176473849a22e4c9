/**
 * Helpers for testing apps built on weather-sdk.
 *
 * - `createWeatherMocks` / `createServiceMocks`: msw handlers that serve the
 *   real wire formats of every transport (WebSocket tunnel, Connect,
 *   gRPC-Web, SSE) from the reference server's own handlers, with fault
 *   injection and, with `createMockClock`, deterministic time. msw is an
 *   optional peer dependency, needed only by these.
 * - The simulated weather is a pure function of (city, tick), so a test can
 *   predict every reading the reference server (or the mocks) will send.
 * - `inMemoryWebSocket`: a WebSocket constructor wired to a tunnel handler in memory.
 * @packageDocumentation
 */
export { CITIES, type City, readingAt, tickAt } from "../simulation/index.js";
export { inMemoryWebSocket, type InMemoryWebSocketOptions } from "./in-memory-tunnel.js";
export { createMockClock, type MockClock } from "./mock-clock.js";
export type { FailOptions, FaultScope } from "./faults.js";
export { createServiceMocks, type Faults, type MockHandlers, type ServiceMocks, type ServiceMocksOptions } from "./service-mocks.js";
export { createWeatherMocks, type WeatherMocks, type WeatherMocksOptions } from "./weather-mocks.js";
export { forwardStreamCancels, type WorkerEvents } from "./worker-streams.js";
