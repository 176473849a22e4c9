/**
 * The tests' clock is the one the testing kit ships (`weather-sdk/testing`),
 * under the name the older tests use.
 */
export { createMockClock as createFakeClock, type MockClock as FakeClock } from "../../src/testing/mock-clock.js";
