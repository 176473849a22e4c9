import { create } from "@bufbuild/protobuf";
import { type WeatherResponse, WeatherResponseSchema } from "../gen/weather_pb.js";
import { CITIES, type City } from "./cities.js";

const DAY_MS = 86_400_000;
const YEAR_MS = 365.2425 * DAY_MS;

/** Index of the tick that contains `timeMs` when readings come every `tickMs`. */
export function tickAt(timeMs: number, tickMs: number): number {
  return Math.floor(timeMs / tickMs);
}

/** Looks a city up by its code; `undefined` when the code is unknown. */
export function findCity(code: string): City | undefined {
  return CITIES.get(code);
}

/**
 * The reading of `city` for tick `tick` (its timestamp is `tick * tickMs`).
 *
 * A pure function: the same arguments always give the same reading, so a
 * restarted server can replay history and tests can predict every value.
 * Temperature follows the season and the local time of day plus slow weather
 * fronts; humidity moves against temperature; the description matches both.
 */
export function readingAt(city: City, tick: number, tickMs: number, extended = false): WeatherResponse {
  const timeMs = tick * tickMs;
  // Round first, so the description agrees with the numbers the client sees.
  const rawTemperature = temperatureAt(city, timeMs);
  const temperature = round1(rawTemperature);
  const humidity = round1(humidityAt(city, timeMs, rawTemperature));
  let description = describe(temperature, humidity);
  if (extended) {
    const laterMs = timeMs + 3 * 3_600_000;
    const laterTemp = round1(temperatureAt(city, laterMs));
    const trend = laterTemp > temperature + 0.5 ? "warming" : laterTemp < temperature - 0.5 ? "cooling" : "steady";
    description += `; ${city.name}: ${trend}, ${laterTemp} °C and ${describe(laterTemp, round1(humidityAt(city, laterMs, laterTemp))).toLowerCase()} in 3 h`;
  }
  return create(WeatherResponseSchema, {
    temperature,
    humidity,
    description,
    timestamp: BigInt(timeMs),
  });
}

function temperatureAt(city: City, timeMs: number): number {
  // Seasons peak in late July in the north, late January in the south.
  const yearPhase = ((timeMs % YEAR_MS) / YEAR_MS - 0.55) * 2 * Math.PI;
  const seasonal = city.seasonalSwingC * Math.cos(yearPhase) * (city.southern ? -1 : 1);
  // Local solar time: warmest around 15:00, coldest before dawn.
  const localHour = (((timeMs / 3_600_000 + city.longitude / 15) % 24) + 24) % 24;
  const daily = city.dailySwingC * Math.cos(((localHour - 15) / 24) * 2 * Math.PI);
  const fronts = 3 * smoothNoise(city.code + ":t", timeMs / (6 * 3_600_000));
  const gusts = 0.4 * smoothNoise(city.code + ":g", timeMs / 60_000);
  return city.meanTempC + seasonal + daily + fronts + gusts;
}

function humidityAt(city: City, timeMs: number, temperature: number): number {
  const drift = 15 * smoothNoise(city.code + ":h", timeMs / (4 * 3_600_000));
  const h = city.meanHumidity + drift - 1.5 * (temperature - city.meanTempC);
  return Math.min(100, Math.max(5, h));
}

function describe(temperature: number, humidity: number): string {
  if (humidity >= 90) return temperature <= 0 ? "Snow" : temperature < 4 ? "Sleet" : "Rain";
  if (humidity >= 80) return temperature <= 0 ? "Light snow" : "Drizzle";
  if (humidity >= 70) return "Overcast";
  if (humidity >= 55) return "Partly cloudy";
  if (temperature >= 35) return "Hot and clear";
  return temperature <= 0 ? "Cold and clear" : "Clear";
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Smooth pseudo-random value in [-1, 1]: cosine-interpolated lattice noise. */
function smoothNoise(seed: string, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const a = lattice(seed, i);
  const b = lattice(seed, i + 1);
  const w = (1 - Math.cos(f * Math.PI)) / 2;
  return a + (b - a) * w;
}

function lattice(seed: string, i: number): number {
  // FNV-1a over the seed, then an integer mix with the lattice index.
  let h = 0x811c9dc5;
  for (let k = 0; k < seed.length; k++) {
    h = Math.imul(h ^ seed.charCodeAt(k), 0x01000193);
  }
  h = Math.imul(h ^ (i | 0), 0x5bd1e995);
  h = Math.imul(h ^ Math.floor(i / 2 ** 32), 0x27d4eb2d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return ((h >>> 0) / 0xffffffff) * 2 - 1;
}
