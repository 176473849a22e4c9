import { Code, ConnectError } from "@connectrpc/connect";
import type { Clock } from "../../clock.js";
import type { WeatherResponse } from "../../gen/weather_pb.js";
import { CITIES, type City } from "../../simulation/cities.js";
import { readingAt, tickAt } from "../../simulation/weather-model.js";
import { notify, type Replay, type SourceListener, type SourceReading, type WeatherSource, withFollowObject } from "./weather-source.js";

/** Options of {@link createSimulatedSource}. */
export interface SimulatedSourceOptions {
  /** A reading per city every `tickMs`, aligned to the clock. */
  readonly tickMs: number;
  /** How far back `replay` reaches. */
  readonly historyWindowMs: number;
  readonly clock: Clock;
}

/**
 * The deterministic weather of `simulation/`, in process: each city has a
 * reading every `tickMs`, a pure function of (city, tick), so any reading in
 * the history window can be replayed without storing it. Reported readings
 * are kept in memory for the window and take the place of the ticks at or
 * before them. One timer serves every follower of every city.
 */
export function createSimulatedSource(options: SimulatedSourceOptions): WeatherSource {
  const { tickMs, historyWindowMs, clock } = options;
  if (!Number.isSafeInteger(tickMs) || tickMs <= 0) {
    throw new RangeError(`tickMs must be a positive whole number of milliseconds, got ${tickMs}`);
  }
  const historyTicks = Math.floor(historyWindowMs / tickMs);
  const cities = new Map<City, CityState>();
  let timer: unknown;
  let timerTick: number | undefined;
  let closed = false;

  interface CityState {
    readonly city: City;
    readonly listeners: Set<SourceListener>;
    /** The last tick delivered to followers. */
    deliveredTick: number;
    /** The newest tick's reading, shared by every call that sends it. */
    newest?: SourceReading;
    /** Reported readings inside the window, oldest first. */
    readonly reported: SourceReading[];
  }

  function stateOf(code: string): CityState {
    const city = requireCity(code);
    let state = cities.get(city);
    if (state === undefined) {
      state = { city, listeners: new Set(), deliveredTick: tickAt(clock.now(), tickMs), reported: [] };
      cities.set(city, state);
    }
    return state;
  }

  /** The reading of a tick; the newest tick's is frozen and shared, older ones (replays) are made afresh. */
  function tickReading(state: CityState, tick: number): SourceReading {
    const newest = state.newest;
    if (newest !== undefined && newest.timestamp === BigInt(tick * tickMs)) return newest;
    const reading = makeReading(state.city, tick);
    if (tick >= tickAt(clock.now(), tickMs)) {
      Object.freeze(reading.plain);
      Object.freeze(reading.extended);
      state.newest = reading;
    }
    return reading;
  }

  function makeReading(city: City, tick: number): SourceReading {
    return new ModelReading(city, tick, tickMs);
  }

  /** Newest reported timestamp of a city, or -1. */
  function newestReported(state: CityState): bigint {
    return state.reported[state.reported.length - 1]?.timestamp ?? -1n;
  }

  function trim(state: CityState): void {
    const oldest = BigInt((tickAt(clock.now(), tickMs) - historyTicks) * tickMs);
    let drop = 0;
    while (drop < state.reported.length && (state.reported[drop]?.timestamp ?? 0n) < oldest) drop++;
    if (drop > 0) state.reported.splice(0, drop);
  }

  /** Sends a city's followers every tick up to now that they have not had. */
  function deliverDueTicks(state: CityState): void {
    const current = tickAt(clock.now(), tickMs);
    for (let tick = state.deliveredTick + 1; tick <= current && state.listeners.size > 0; tick++) {
      const reading = tickReading(state, tick);
      // Every follower gets this one object: frozen, so the tunnel encodes it once, also for a tick
      // delivered late (a busy event loop) that is no longer the newest.
      Object.freeze(reading.plain);
      Object.freeze(reading.extended);
      for (const listener of state.listeners) notify(listener, reading);
    }
    state.deliveredTick = current;
  }

  function followCity(cityCode: string, listener: SourceListener): () => void {
    const state = stateOf(cityCode);
    if (state.listeners.size === 0) state.deliveredTick = tickAt(clock.now(), tickMs);
    state.listeners.add(listener);
    arm();
    return () => {
      if (!state.listeners.delete(listener)) return;
      if (state.listeners.size === 0) disarmWhenUnfollowed();
    };
  }

  // ---- one timer for every followed city

  function arm(): void {
    if (closed || timer !== undefined) return;
    let followed = false;
    for (const state of cities.values()) if (state.listeners.size > 0) followed = true;
    if (!followed) return;
    const next = tickAt(clock.now(), tickMs) + 1;
    timerTick = next;
    timer = clock.setTimeout(fire, next * tickMs - clock.now());
  }

  /** Clears the timer once no city has a follower left. */
  function disarmWhenUnfollowed(): void {
    for (const state of cities.values()) if (state.listeners.size > 0) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  }

  function fire(): void {
    timer = undefined;
    const current = tickAt(clock.now(), tickMs);
    // A timer may run a little early for the wall clock: wait on.
    if (timerTick !== undefined && current < timerTick) {
      timer = clock.setTimeout(fire, timerTick * tickMs - clock.now());
      return;
    }
    for (const state of cities.values()) deliverDueTicks(state);
    arm();
  }

  const source: WeatherSource = {
    newest(cityCode) {
      const state = stateOf(cityCode);
      const tickNow = tickReading(state, tickAt(clock.now(), tickMs));
      const last = state.reported[state.reported.length - 1];
      return last !== undefined && last.timestamp > tickNow.timestamp ? last : tickNow;
    },

    // eslint-disable-next-line @typescript-eslint/require-await -- async so that a thrown ConnectError becomes a rejection
    async replay(cityCode, cursor, limit = Number.POSITIVE_INFINITY): Promise<Replay> {
      const state = stateOf(cityCode);
      trim(state);
      const nowTick = tickAt(clock.now(), tickMs);
      const firstAfter = Number(cursor / BigInt(tickMs)) + 1;
      const oldest = nowTick - historyTicks;
      const readings: SourceReading[] = [];
      const reported = state.reported.filter((r) => r.timestamp > cursor);
      let r = 0;
      for (let tick = Math.max(firstAfter, oldest); tick <= nowTick && readings.length < limit; tick++) {
        const reading = tickReading(state, tick);
        // Reported readings lie strictly between ticks (see append).
        while (r < reported.length && (reported[r]?.timestamp ?? 0n) < reading.timestamp && readings.length < limit) {
          readings.push(reported[r++] as SourceReading);
        }
        if (readings.length < limit) readings.push(reading);
      }
      while (r < reported.length && readings.length < limit) readings.push(reported[r++] as SourceReading);
      return { readings, gap: firstAfter < oldest };
    },

    follow: followCity,

    // eslint-disable-next-line @typescript-eslint/require-await -- async so that a thrown ConnectError becomes a rejection
    async append(cityCode, readings: readonly WeatherResponse[]) {
      const state = stateOf(cityCode);
      // Ticks that are due go out first, so every tick up to now precedes what is reported now and the
      // next tick comes after it: reported readings lie strictly between ticks, live and in replays.
      deliverDueTicks(state);
      const now = BigInt(clock.now());
      let newest = newestReported(state);
      const tickNow = BigInt(tickAt(clock.now(), tickMs) * tickMs);
      if (tickNow > newest) newest = tickNow;
      for (const [i, reading] of readings.entries()) {
        if (reading.timestamp <= 0n || reading.timestamp > now) {
          throw new ConnectError(
            `reading ${i + 1} has timestamp ${reading.timestamp}, which is not a time up to now in Unix epoch milliseconds`,
            Code.InvalidArgument,
          );
        }
        if (reading.timestamp <= newest) {
          throw new ConnectError(
            `reading ${i + 1} (timestamp ${reading.timestamp}) is not after the newest reading of ${state.city.code} ` +
              `(${newest}); ${i} reading${i === 1 ? " was" : "s were"} stored. Report readings in time order, newer than the newest`,
            Code.FailedPrecondition,
          );
        }
        newest = reading.timestamp;
        const stored: SourceReading = {
          cityCode: state.city.code,
          timestamp: reading.timestamp,
          plain: Object.freeze(reading),
          extended: Object.freeze(reading),
        };
        state.reported.push(stored);
        for (const listener of state.listeners) notify(listener, stored);
      }
      trim(state);
    },

    health: () => ({ ok: true, detail: "simulated: ok" }),

    close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      for (const state of cities.values()) state.listeners.clear();
      return Promise.resolve();
    },
  };
  return withFollowObject(source, followCity);
}

function requireCity(code: string): City {
  if (code === "") {
    throw new ConnectError('city_code is required, e.g. "NYC"', Code.InvalidArgument);
  }
  const city = CITIES.get(code);
  if (city === undefined) {
    throw new ConnectError(`unknown city_code "${code}"; known codes: ${[...CITIES.keys()].join(", ")}`, Code.InvalidArgument);
  }
  return city;
}

/**
 * A reading of the model. The extended style (a forecast, several model
 * evaluations) is made on first use: a replay of many readings to plain
 * subscribers never computes it.
 */
class ModelReading implements SourceReading {
  readonly cityCode: string;
  readonly timestamp: bigint;
  readonly plain: WeatherResponse;
  #extended: WeatherResponse | undefined;

  constructor(
    private readonly city: City,
    private readonly tick: number,
    private readonly tickMs: number,
  ) {
    this.cityCode = city.code;
    this.plain = readingAt(city, tick, tickMs);
    this.timestamp = this.plain.timestamp;
  }

  get extended(): WeatherResponse {
    return (this.#extended ??= readingAt(this.city, this.tick, this.tickMs, true));
  }
}
