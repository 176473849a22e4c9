import { describe, expect, it } from "vitest";
import { CliUsageError, parseCliOptions } from "../../src/server/cli-options.js";

describe("server CLI options", () => {
  it("defaults to the simulated source on 127.0.0.1:8080", () => {
    expect(parseCliOptions([], {})).toEqual({ port: 8080, host: "127.0.0.1", tickMs: undefined, source: { kind: "simulated" } });
  });

  it("reads the environment, and flags win over it", () => {
    const env = { PORT: "9000", TICK_MS: "100", WEATHER_SOURCE: "redis", WEATHER_REDIS_URL: "redis://10.0.0.1:6379" };
    expect(parseCliOptions([], env)).toEqual({
      port: 9000,
      host: "127.0.0.1",
      tickMs: 100,
      source: { kind: "redis", url: "redis://10.0.0.1:6379" },
    });
    expect(parseCliOptions(["--port", "0", "--redis=redis://127.0.0.1:7000"], env)).toMatchObject({
      port: 0,
      source: { kind: "redis", url: "redis://127.0.0.1:7000" },
    });
    expect(parseCliOptions(["--source", "redis"], {}).source).toEqual({ kind: "redis", url: "redis://127.0.0.1:6379" });
  });

  it.each([
    [["--port", "70000"], /PORT must be a port number/],
    [["--tick-ms", "0"], /TICK_MS must be a positive whole number/],
    [["--source", "postgres"], /--source must be "simulated" or "redis"/],
    [["--redis", "redis://x"], /--redis needs --source redis/],
    [["--source", "redis", "--redis", "http://x"], /redis:\/\/ or rediss:\/\/ URL/],
    [["--frobnicate", "1"], /unknown option --frobnicate/],
    [["--port"], /--port needs a value/],
    [["8080"], /unexpected argument "8080"/],
  ])("refuses %j with a message that says what to change", (argv, message) => {
    expect(() => parseCliOptions(argv, {})).toThrow(CliUsageError);
    expect(() => parseCliOptions(argv, {})).toThrow(message);
  });
});
