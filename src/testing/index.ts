/**
 * Helpers for testing apps built on weather-sdk. The simulated weather is a
 * pure function of (city, tick), so a test can predict every reading the
 * reference server will send.
 * @packageDocumentation
 */
export { CITIES, type City, readingAt, tickAt } from "../simulation/index.js";
export { inMemoryWebSocket, type InMemoryWebSocketOptions } from "./in-memory-tunnel.js";
