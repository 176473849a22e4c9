import { describe, expect, it } from "vitest";
import { CITIES, findCity, readingAt, tickAt } from "../src/simulation/index.js";

const HOUR_MS = 3_600_000;
const nyc = findCity("NYC");
if (nyc === undefined) throw new Error("NYC must be known");

describe("simulated weather", () => {
  it("knows at least 20 cities, keyed by their upper-case code", () => {
    expect(CITIES.size).toBeGreaterThanOrEqual(20);
    for (const [code, city] of CITIES) {
      expect(code).toMatch(/^[A-Z]{3}$/);
      expect(city.code).toBe(code);
    }
    expect(findCity("nyc")).toBeUndefined();
  });

  it("is a pure function of (city, tick)", () => {
    const a = readingAt(nyc, 1_795_000_000, 1000);
    const b = readingAt(nyc, 1_795_000_000, 1000);
    expect(b).toEqual(a);
    expect(a.timestamp).toBe(1_795_000_000_000n);
    expect(readingAt(nyc, 1_795_000_001, 1000)).not.toEqual(a);
  });

  it("aligns ticks to the clock", () => {
    expect(tickAt(1999, 1000)).toBe(1);
    expect(tickAt(2000, 1000)).toBe(2);
    expect(readingAt(nyc, tickAt(12_345_678, 250), 250).timestamp).toBe(12_345_500n);
  });

  it("gives plausible values and descriptions that match them, for every city over a year", () => {
    const start = Date.UTC(2026, 0, 1) / HOUR_MS;
    for (const city of CITIES.values()) {
      let min = Infinity;
      let max = -Infinity;
      for (let hour = start; hour < start + 365 * 24; hour += 7) {
        const r = readingAt(city, hour, HOUR_MS);
        expect(r.temperature).toBeGreaterThan(-45);
        expect(r.temperature).toBeLessThan(55);
        expect(r.humidity).toBeGreaterThanOrEqual(0);
        expect(r.humidity).toBeLessThanOrEqual(100);
        if (/snow/i.test(r.description)) expect(r.temperature).toBeLessThanOrEqual(0);
        if (/^(Rain|Drizzle)/.test(r.description)) expect(r.temperature).toBeGreaterThan(0);
        if (r.description.startsWith("Clear") || r.description.includes("and clear")) expect(r.humidity).toBeLessThan(55);
        min = Math.min(min, r.temperature);
        max = Math.max(max, r.temperature);
      }
      // Seasons and days make a real spread; no city is frozen in place.
      expect(max - min).toBeGreaterThan(5);
    }
  });

  it("moves smoothly from one tick to the next", () => {
    const t0 = 1_795_000_000;
    for (let i = 0; i < 600; i++) {
      const a = readingAt(nyc, t0 + i, 1000);
      const b = readingAt(nyc, t0 + i + 1, 1000);
      expect(Math.abs(b.temperature - a.temperature)).toBeLessThan(0.5);
    }
  });

  it("puts southern summers in January", () => {
    const sydney = findCity("SYD");
    if (sydney === undefined) throw new Error("SYD must be known");
    const mean = (month: number, city: typeof sydney) => {
      let sum = 0;
      for (let day = 1; day <= 28; day++) {
        for (let hour = 0; hour < 24; hour += 3) {
          sum += readingAt(city, Date.UTC(2026, month, day, hour) / HOUR_MS, HOUR_MS).temperature;
        }
      }
      return sum / (28 * 8);
    };
    expect(mean(0, sydney)).toBeGreaterThan(mean(6, sydney));
    expect(mean(6, nyc)).toBeGreaterThan(mean(0, nyc));
  });

  it("adds an outlook when extended", () => {
    const plain = readingAt(nyc, 1_795_000_000, 1000);
    const extended = readingAt(nyc, 1_795_000_000, 1000, true);
    expect(extended.temperature).toBe(plain.temperature);
    expect(extended.description.startsWith(plain.description)).toBe(true);
    expect(extended.description).toMatch(/New York: (warming|cooling|steady), -?\d+(\.\d)? °C and .+ in 3 h$/);
  });
});
