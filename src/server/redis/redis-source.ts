import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { RedisClientType } from "@redis/client";
import { type Clock, sleep, systemClock } from "../../clock.js";
import { type WeatherResponse, WeatherResponseSchema } from "../../gen/weather_pb.js";
import { CITIES, type City } from "../../simulation/cities.js";
import { readingAt, tickAt } from "../../simulation/weather-model.js";
import {
  notify,
  type Replay,
  type SourceListener,
  type SourceReading,
  type WeatherSource,
  withFollowObject,
} from "../weather/weather-source.js";

/** Options of {@link createRedisWeatherSource}. */
export interface RedisWeatherSourceOptions {
  /** Where Redis listens, e.g. `redis://127.0.0.1:6379`. */
  readonly url: string;
  /** A simulated reading per city every `tickMs` (appended by the instance that holds the ticker lease). */
  readonly tickMs: number;
  /** Readings older than this are trimmed from each city's stream. */
  readonly historyWindowMs: number;
  /** Key prefix; each city's stream is `<prefix>{<code>}` so a Redis Cluster spreads cities over its slots. Default `"weather:"`. */
  readonly keyPrefix?: string;
  /** How long the ticker lease lasts without renewal: another instance takes over this long after the holder dies. Default 2000. */
  readonly leaseMs?: number;
  /** How long `createRedisWeatherSource` waits for Redis before it fails. Default 5000. */
  readonly connectTimeoutMs?: number;
  readonly clock?: Clock;
  /** Called with errors the source recovers from by itself (Redis unreachable, a lost lease). Default: ignored. */
  readonly onError?: (error: unknown) => void;
}

/** A Redis-backed source, with what operators and tests need to see of it. */
export interface RedisWeatherSource extends WeatherSource {
  /** This instance's id in the lease. */
  readonly instanceId: string;
  /** Whether this instance currently appends the simulated ticks. */
  readonly ticking: boolean;
  /** Redis commands sent since start, by purpose: what a reading costs, and that it does not grow with subscribers. */
  readonly commands: { readonly append: number; readonly follow: number; readonly replay: number; readonly lease: number };
}

type Client = RedisClientType<Record<string, never>, Record<string, never>, Record<string, never>, 2>;
type StreamEntry = [id: string, fields: string[]];

// Renews the lease only while this instance holds it.
const RENEW_LEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const FOLLOW_BLOCK_MS = 1000;
const RETRY_DELAY_MS = 200;
const MAX_TICKS_PER_ROUND = 500;

/**
 * A {@link WeatherSource} on Redis Streams, shared by every server instance on
 * the same Redis:
 * - one stream per city, entry id `<timestamp>-0`, so Redis itself refuses a
 *   reading at or before the newest one; trimmed to the history window (`MINID`);
 * - the instance holding a short lease appends the simulated ticks; when it
 *   dies another takes over within `leaseMs` and appends every tick missed
 *   meanwhile, so followers see no gap;
 * - each instance follows each city with one blocking reader and fans out in
 *   process: Redis commands per reading do not depend on the number of subscribers;
 * - while Redis is unreachable, followers wait and resume from their last
 *   entry when it is back; appends and replays fail with `Unavailable`.
 *
 * Needs the `@redis/client` package (an optional peer dependency of `weather-sdk`).
 */
export async function createRedisWeatherSource(options: RedisWeatherSourceOptions): Promise<RedisWeatherSource> {
  const { tickMs, historyWindowMs } = options;
  if (!Number.isSafeInteger(tickMs) || tickMs <= 0) {
    throw new RangeError(`tickMs must be a positive whole number of milliseconds, got ${tickMs}`);
  }
  const clock = options.clock ?? systemClock;
  const prefix = options.keyPrefix ?? "weather:";
  const leaseMs = options.leaseMs ?? 2000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const onError = options.onError ?? (() => undefined);
  const instanceId = randomUUID();
  const leaseKey = `${prefix}ticker-lease`;
  const keyOf = (city: City) => `${prefix}{${city.code}}`;
  const commands = { append: 0, follow: 0, replay: 0, lease: 0 };

  const { createClient } = await import("@redis/client").catch((e: unknown) => {
    throw new Error(`the Redis source needs the @redis/client package: npm install @redis/client (${String(e)})`);
  });
  const client = createClient({
    url: options.url,
    RESP: 2,
    // While Redis is away, calls fail at once with Unavailable (clients retry) instead of queueing; followers retry themselves.
    disableOfflineQueue: true,
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) },
  }) as unknown as Client;
  let lastError: unknown;
  client.on("error", (e: unknown) => {
    lastError = e;
    onError(e);
  });
  await connectOrFail(client, options.url, connectTimeoutMs);

  let closed = false;
  const stop = new AbortController();
  const isClosed = () => stop.signal.aborted;
  const followers = new Map<City, Follower>();
  let holdsLease = false;
  // The newest tick this instance appended per city, while it holds the lease.
  const appendedTick = new Map<City, number>();

  // ---- ticker: lease, then append every tick not yet in each city's stream

  let timer: unknown;
  const schedule = () => {
    if (closed) return;
    const now = clock.now();
    const nextTick = (tickAt(now, tickMs) + 1) * tickMs;
    // Renew well within the lease even when ticks are slower than that.
    timer = clock.setTimeout(() => void onTimer(), Math.max(1, Math.min(nextTick - now, leaseMs / 4)));
  };
  const onTimer = async () => {
    try {
      await maintainLease();
      if (holdsLease) await appendTicks();
    } catch (e) {
      holdsLease = false;
      appendedTick.clear();
      onError(e);
    }
    schedule();
  };

  async function maintainLease(): Promise<void> {
    commands.lease++;
    if (holdsLease) {
      const renewed = await client.eval(RENEW_LEASE, { keys: [leaseKey], arguments: [instanceId, String(leaseMs)] });
      if (renewed !== 1) {
        holdsLease = false;
        appendedTick.clear();
      }
      return;
    }
    const taken = await client.set(leaseKey, instanceId, { NX: true, PX: leaseMs });
    if (taken === "OK") holdsLease = true;
  }

  async function appendTicks(): Promise<void> {
    const nowTick = tickAt(clock.now(), tickMs);
    const oldestTick = nowTick - Math.floor(historyWindowMs / tickMs);
    await Promise.all(
      [...CITIES.values()].map(async (city) => {
        let last = appendedTick.get(city);
        if (last === undefined) {
          // Taking over: continue after whatever the stream already holds.
          commands.append++;
          const newest = await client.sendCommand<StreamEntry[]>(["XREVRANGE", keyOf(city), "+", "-", "COUNT", "1"]);
          const newestMs = newest[0] === undefined ? undefined : entryTimestamp(newest[0][0]);
          // An empty stream starts now: there is no history to fill, only readings from here on.
          last = newestMs === undefined ? nowTick - 1 : Math.max(oldestTick - 1, tickAt(Number(newestMs), tickMs));
        }
        const pending: Promise<unknown>[] = [];
        // A long catch-up goes out over several rounds, so the lease is renewed in between.
        const upTo = Math.min(nowTick, last + MAX_TICKS_PER_ROUND);
        for (let tick = last + 1; tick <= upTo; tick++) {
          commands.append++;
          pending.push(client.sendCommand(xaddArgs(city, readingAt(city, tick, tickMs), readingAt(city, tick, tickMs, true).description)));
        }
        const results = await Promise.allSettled(pending);
        const refused = results.some((r) => r.status === "rejected");
        // A refused id means someone else (a reported reading, or a former lease holder) got there first:
        // read the stream's newest entry again before the next tick.
        if (refused) appendedTick.delete(city);
        else appendedTick.set(city, upTo);
      }),
    );
  }

  // Exact trimming (one entry per append at most) keeps the window exact, which `replay` reports gaps by.
  function xaddArgs(city: City, reading: WeatherResponse, extendedDescription: string): string[] {
    const minId = String(Math.max(0, clock.now() - historyWindowMs));
    return [
      "XADD",
      keyOf(city),
      "MINID",
      "=",
      minId,
      `${reading.timestamp}-0`,
      "t",
      String(reading.temperature),
      "h",
      String(reading.humidity),
      "d",
      reading.description,
      "x",
      extendedDescription,
    ];
  }

  // ---- following: one blocking reader per city, fanned out in process

  interface Follower {
    readonly listeners: Set<SourceListener>;
  }

  function followCity(cityCode: string, listener: SourceListener): () => void {
    const follower = followerOf(requireCity(cityCode));
    follower.listeners.add(listener);
    return () => follower.listeners.delete(listener);
  }

  function followerOf(city: City): Follower {
    let follower = followers.get(city);
    if (follower !== undefined) return follower;
    follower = { listeners: new Set() };
    followers.set(city, follower);
    // Start after the newest entry as of now: this XREVRANGE goes out on the shared connection before any
    // replay the caller sends next, so every entry the replay does not see reaches the follower.
    commands.follow++;
    const start = client.sendCommand<StreamEntry[]>(["XREVRANGE", keyOf(city), "+", "-", "COUNT", "1"]);
    void runFollower(city, follower, start);
    return follower;
  }

  async function runFollower(city: City, follower: Follower, start: Promise<StreamEntry[]>): Promise<void> {
    const reader = client.duplicate() as Client;
    reader.on("error", (e: unknown) => (lastError = e));
    let lastId: string | undefined;
    while (!stop.signal.aborted) {
      try {
        if (!reader.isOpen) await reader.connect();
        if (lastId === undefined) lastId = (await start.catch(() => []))[0]?.[0] ?? "0-0";
        commands.follow++;
        const reply = await reader.sendCommand<[key: string, entries: StreamEntry[]][] | null>([
          "XREAD",
          "COUNT",
          "1000",
          "BLOCK",
          String(FOLLOW_BLOCK_MS),
          "STREAMS",
          keyOf(city),
          lastId,
        ]);
        for (const entry of reply?.[0]?.[1] ?? []) {
          lastId = entry[0];
          const reading = toSourceReading(city, entry);
          for (const listener of follower.listeners) notify(listener, reading);
        }
      } catch (e) {
        if (isClosed()) break;
        lastError = e;
        // Redis went away: wait and read again from the last entry delivered, so nothing is lost.
        await sleep(clock, RETRY_DELAY_MS, stop.signal).catch(() => undefined);
      }
    }
    reader.destroy();
  }

  // ---- reads

  async function newest(cityCode: string): Promise<SourceReading> {
    const city = requireCity(cityCode);
    commands.replay++;
    const entries = await unavailableOnFailure(client.sendCommand<StreamEntry[]>(["XREVRANGE", keyOf(city), "+", "-", "COUNT", "1"]));
    if (entries[0] === undefined) {
      throw new ConnectError(`no reading of ${city.code} yet; retry shortly`, Code.Unavailable);
    }
    return toSourceReading(city, entries[0]);
  }

  async function replay(cityCode: string, cursor: bigint, limit?: number): Promise<Replay> {
    const city = requireCity(cityCode);
    const key = keyOf(city);
    commands.replay++;
    const [entries, info] = await unavailableOnFailure(
      Promise.all([
        client.sendCommand<StreamEntry[]>([
          "XRANGE",
          key,
          `(${cursor}-0`,
          "+",
          ...(limit === undefined || !Number.isFinite(limit) ? [] : ["COUNT", String(limit)]),
        ]),
        client.sendCommand<unknown[]>(["XINFO", "STREAM", key]).catch(() => undefined),
      ]),
    );
    // Trimming leaves the stream starting later than it began (entries-added > length). The client missed a
    // reading when the one after its cursor, a tick later, is older than the first entry kept.
    const added = info === undefined ? undefined : Number(fieldOf(info, "entries-added"));
    const length = info === undefined ? undefined : Number(fieldOf(info, "length"));
    const first = info === undefined ? undefined : fieldOf(info, "recorded-first-entry-id");
    const firstMs = first === undefined ? undefined : entryTimestamp(first);
    const trimmed = added !== undefined && length !== undefined && added > length;
    const gap = trimmed && firstMs !== undefined && cursor + BigInt(tickMs) < firstMs;
    return { readings: entries.map((entry) => toSourceReading(city, entry)), gap };
  }

  async function append(cityCode: string, readings: readonly WeatherResponse[]): Promise<void> {
    const city = requireCity(cityCode);
    const latestAllowed = BigInt(clock.now());
    for (const [i, reading] of readings.entries()) {
      if (reading.timestamp <= 0n || reading.timestamp > latestAllowed) {
        throw new ConnectError(
          `reading ${i + 1} has timestamp ${reading.timestamp}, which is not a time up to now in Unix epoch milliseconds`,
          Code.InvalidArgument,
        );
      }
    }
    for (const [i, reading] of readings.entries()) {
      commands.append++;
      try {
        await client.sendCommand(xaddArgs(city, reading, reading.description));
      } catch (e) {
        if (e instanceof Error && /equal or smaller/i.test(e.message)) {
          throw new ConnectError(
            `reading ${i + 1} (timestamp ${reading.timestamp}) is not after the newest reading of ${city.code}; ` +
              `${i} reading${i === 1 ? " was" : "s were"} stored. Report readings in time order, newer than the newest`,
            Code.FailedPrecondition,
          );
        }
        throw unavailable(e);
      }
    }
  }

  async function unavailableOnFailure<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      throw unavailable(e);
    }
  }

  function unavailable(e: unknown): ConnectError {
    if (e instanceof ConnectError) return e;
    return new ConnectError(`the weather store (Redis) is unreachable: ${e instanceof Error ? e.message : String(e)}`, Code.Unavailable);
  }

  schedule();

  const source: RedisWeatherSource = {
    instanceId,
    get ticking() {
      return holdsLease;
    },
    commands,
    newest,
    replay,
    follow: followCity,
    append,
    health() {
      if (client.isReady) return { ok: true, detail: "redis: ok" };
      return { ok: false, detail: `redis: unreachable (${lastError instanceof Error ? lastError.message : "connecting"})` };
    },
    async close() {
      if (closed) return;
      closed = true;
      stop.abort();
      if (timer !== undefined) clock.clearTimeout(timer);
      if (holdsLease && client.isReady) {
        await client.eval(RELEASE_LEASE, { keys: [leaseKey], arguments: [instanceId] }).catch(() => undefined);
      }
      holdsLease = false;
      client.destroy();
    },
  };
  return withFollowObject(source, followCity);
}

async function connectOrFail(client: Client, url: string, timeoutMs: number): Promise<void> {
  const failure = new Promise<never>((_, reject) => {
    client.once("error", (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), failure, timeout]);
  } catch (e) {
    client.destroy();
    throw new Error(
      `cannot reach Redis at ${url}: ${e instanceof Error ? e.message : String(e)}. ` +
        "Start redis-server, or check --redis / WEATHER_REDIS_URL",
      { cause: e },
    );
  } finally {
    clearTimeout(timer);
  }
}

function requireCity(code: string): City {
  const city = CITIES.get(code);
  if (city === undefined) {
    throw new ConnectError(`unknown city_code "${code}"; known codes: ${[...CITIES.keys()].join(", ")}`, Code.InvalidArgument);
  }
  return city;
}

/** The timestamp (ms) of an entry id `<ms>-<seq>`. */
function entryTimestamp(id: string): bigint | undefined {
  const ms = id.split("-", 1)[0];
  return ms !== undefined && /^\d+$/.test(ms) ? BigInt(ms) : undefined;
}

function fieldOf(flat: readonly unknown[], name: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i] === name) {
      const value = flat[i + 1];
      return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
    }
  }
  return undefined;
}

function toSourceReading(city: City, [id, fields]: StreamEntry): SourceReading {
  const timestamp = entryTimestamp(id) ?? 0n;
  const temperature = Number(fieldOf(fields, "t"));
  const humidity = Number(fieldOf(fields, "h"));
  const description = fieldOf(fields, "d") ?? "";
  const plain = Object.freeze(create(WeatherResponseSchema, { temperature, humidity, description, timestamp }));
  const extended = Object.freeze(
    create(WeatherResponseSchema, { temperature, humidity, description: fieldOf(fields, "x") ?? description, timestamp }),
  );
  return { cityCode: city.code, timestamp, plain, extended };
}
