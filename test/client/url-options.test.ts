// createWeatherClient refuses a baseUrl it could not use, saying what a correct one looks like,
// before any call is made (a bare `new URL` would throw "Invalid URL" from deep inside, or a
// browser would resolve "weather.example.com" as a path on the page's own server).
import { afterEach, describe, expect, it } from "vitest";
import { createWeatherClient } from "../../src/index.js";

const absolute = /must be an absolute http:\/\/ or https:\/\/ URL such as "https:\/\/weather.example.com"/;

describe("createWeatherClient's URL options", () => {
  afterEach(() => {
    delete (globalThis as { location?: unknown }).location;
  });

  it.each(["weather.example.com", "localhost:8080", "ws://weather.example.com", "https://", "", "/api"])(
    "refuses baseUrl %j outside a page with a TypeError naming the option and the value",
    (baseUrl) => {
      expect(() => createWeatherClient({ baseUrl })).toThrow(TypeError);
      expect(() => createWeatherClient({ baseUrl })).toThrow(absolute);
      expect(() => createWeatherClient({ baseUrl })).toThrow(`baseUrl must be`);
      expect(() => createWeatherClient({ baseUrl })).toThrow(`got ${JSON.stringify(baseUrl)}`);
    },
  );

  it("refuses a bad sseBaseUrl the same way", () => {
    expect(() => createWeatherClient({ baseUrl: "https://weather.example.com", sseBaseUrl: "sse.example.com" })).toThrow(
      /sseBaseUrl must be an absolute http:\/\/ or https:\/\/ URL .*got "sse.example.com"/,
    );
  });

  it("takes absolute http and https URLs (any case, with a path), and in a page a path from its root", () => {
    for (const baseUrl of ["http://127.0.0.1:8080", "HTTPS://weather.example.com/api/", "https://weather.example.com"]) {
      expect(() => createWeatherClient({ baseUrl, transports: ["connect"] })).not.toThrow();
    }
    (globalThis as { location?: unknown }).location = { href: "https://app.example.com/page" };
    expect(() => createWeatherClient({ baseUrl: "/api", transports: ["connect"] })).not.toThrow();
    expect(() => createWeatherClient({ baseUrl: "weather.example.com", transports: ["connect"] })).toThrow(
      /\(or a path such as "\/api" on this page\), got "weather.example.com"/,
    );
  });
});
