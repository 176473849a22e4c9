import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { createRedisWeatherSource, type RedisWeatherSource } from "../../src/server/redis/redis-source.js";
import type { SourceReading } from "../../src/server/weather/weather-source.js";
import { CITIES, readingAt } from "../../src/simulation/index.js";
import { rejection } from "../helpers/assertions.js";
import { type RedisProcess, redisUnavailableReason, startRedis } from "../helpers/redis-server.js";

const skipReason = redisUnavailableReason();
if (skipReason !== undefined) console.log(`skipping the Redis source tests: ${skipReason}`);

const TICK_MS = 50;
const nyc = CITIES.get("NYC");

/** Collects what a follower delivers and resolves `until(n)` once it holds n readings. */
function collector() {
  const readings: SourceReading[] = [];
  const waits: { n: number; resolve: () => void }[] = [];
  return {
    readings,
    listener: (reading: SourceReading) => {
      readings.push(reading);
      for (const w of waits.filter((w) => readings.length >= w.n)) w.resolve();
    },
    until: (n: number): Promise<void> => {
      if (readings.length >= n) return Promise.resolve();
      return new Promise((resolve) => waits.push({ n, resolve }));
    },
  };
}

function expectConsecutiveTicks(readings: readonly SourceReading[]) {
  for (let i = 1; i < readings.length; i++) {
    const prev = readings[i - 1];
    const cur = readings[i];
    expect(cur?.timestamp).toBe((prev?.timestamp ?? 0n) + BigInt(TICK_MS));
  }
}

describe.skipIf(skipReason !== undefined)("Redis weather source", () => {
  let redis: RedisProcess;
  const sources: RedisWeatherSource[] = [];
  let prefixSeq = 0;
  const open = async (keyPrefix: string, historyWindowMs = 60_000) => {
    const source = await createRedisWeatherSource({ url: redis.url, tickMs: TICK_MS, historyWindowMs, keyPrefix, leaseMs: 600 });
    sources.push(source);
    return source;
  };
  const freshPrefix = () => `t${++prefixSeq}:`;
  const holdLeaseElsewhere = async (prefix: string) => {
    const { createClient } = await import("@redis/client");
    const client = createClient({ url: redis.url });
    await client.connect();
    await client.set(`${prefix}ticker-lease`, "someone-else", { PX: 60_000 });
    client.destroy();
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(sources.map((s) => s.close()));
    await redis.stop();
  });

  it("appends a reading per tick from one instance and delivers them in order, each once, to every follower", async () => {
    const prefix = freshPrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const onA = collector();
    const onB = collector();
    a.follow("NYC", onA.listener);
    b.follow("NYC", onB.listener);
    await Promise.all([onA.until(6), onB.until(6)]);
    expect([a.ticking, b.ticking].filter(Boolean)).toHaveLength(1);
    expectConsecutiveTicks(onA.readings);
    const first = onA.readings[0];
    if (first === undefined || nyc === undefined) throw new Error("unreachable");
    const tick = Number(first.timestamp) / TICK_MS;
    expect(first.plain).toEqual(readingAt(nyc, tick, TICK_MS));
    expect(first.extended.description).toBe(readingAt(nyc, tick, TICK_MS, true).description);
    expect(Object.isFrozen(first.plain)).toBe(true);
    // Both instances see the same stream.
    const common = onB.readings.filter((r) => onA.readings.some((x) => x.timestamp === r.timestamp));
    expect(common.length).toBeGreaterThan(0);
  });

  it("replays after a cursor, says when the cursor fell out of the history, and answers the newest reading", async () => {
    const prefix = freshPrefix();
    const source = await open(prefix, 300);
    const seen = collector();
    source.follow("LON", seen.listener);
    await seen.until(12); // 600 ms of ticks: the first ones are trimmed from a 300 ms window
    const recent = seen.readings[seen.readings.length - 3];
    if (recent === undefined) throw new Error("unreachable");
    const replay = await source.replay("LON", recent.timestamp);
    expect(replay.gap).toBe(false);
    expect(replay.readings[0]?.timestamp).toBe(recent.timestamp + BigInt(TICK_MS));
    expectConsecutiveTicks(replay.readings);
    const page = await source.replay("LON", recent.timestamp, 1);
    expect(page.readings.map((r) => r.timestamp)).toEqual([recent.timestamp + BigInt(TICK_MS)]);

    const old = await source.replay("LON", seen.readings[0]?.timestamp ?? 0n);
    expect(old.gap).toBe(true);

    const newest = await source.newest("LON");
    expect(newest.cityCode).toBe("LON");
    expect(newest.timestamp).toBeGreaterThanOrEqual(recent.timestamp);
  });

  it("appends reported readings after the newest, refuses older ones with FailedPrecondition and future ones with InvalidArgument", async () => {
    // No instance of this prefix ticks (the lease is held by nobody alive), so the stream holds reported readings only.
    const prefix = freshPrefix();
    await holdLeaseElsewhere(prefix);
    const source = await open(prefix);
    const seen = collector();
    source.follow("PAR", seen.listener);
    const at = BigInt(Date.now());
    const reported = create(WeatherResponseSchema, { temperature: 21.5, humidity: 40, description: "station 7", timestamp: at });
    await source.append("PAR", [reported]);
    await seen.until(1);
    expect(seen.readings[0]?.plain.description).toBe("station 7");
    expect(seen.readings[0]?.timestamp).toBe(at);
    expect(source.ticking).toBe(false);

    const stale = create(WeatherResponseSchema, { temperature: 1, humidity: 1, description: "late", timestamp: at });
    const refused = await rejection(source.append("PAR", [stale]));
    expect(refused.code).toBe(Code.FailedPrecondition);

    const future = create(WeatherResponseSchema, {
      temperature: 1,
      humidity: 1,
      description: "soon",
      timestamp: BigInt(Date.now() + 3_600_000),
    });
    const refusedFuture = await rejection(source.append("PAR", [future]));
    expect(refusedFuture.code).toBe(Code.InvalidArgument);

    const unknown = await rejection(Promise.resolve().then(() => source.newest("XXX")));
    expect(unknown.code).toBe(Code.InvalidArgument);
  });

  it("hands the ticker to another instance when the holder is gone, with no tick missing", async () => {
    const prefix = freshPrefix();
    const first = await open(prefix);
    const seen = collector();
    first.follow("TYO", seen.listener);
    await seen.until(3);
    const second = await open(prefix);
    const holder = first.ticking ? first : second;
    const other = holder === first ? second : first;
    const onOther = collector();
    other.follow("TYO", onOther.listener);
    await onOther.until(2);
    await holder.close();
    const before = onOther.readings.length;
    await onOther.until(before + 8);
    expect(other.ticking).toBe(true);
    expectConsecutiveTicks(onOther.readings);
  });

  it("keeps following through a Redis restart and loses nothing", async () => {
    const prefix = freshPrefix();
    const source = await open(prefix);
    const seen = collector();
    source.follow("SYD", seen.listener);
    await seen.until(3);
    await redis.kill();
    await vi.waitUntil(() => !source.health().ok);
    expect(source.health().detail).toMatch(/^redis: unreachable/);
    await redis.restart();
    const before = seen.readings.length;
    await seen.until(before + 6);
    expectConsecutiveTicks(seen.readings);
    expect(source.health()).toEqual({ ok: true, detail: "redis: ok" });
  });

  it("reads each followed city once however many listeners follow it: Redis commands per reading do not grow with subscribers", async () => {
    const perReading = async (listeners: number) => {
      const source = await open(freshPrefix());
      const seen = collector();
      source.follow("BER", seen.listener);
      for (let i = 1; i < listeners; i++) source.follow("BER", () => undefined);
      await seen.until(2);
      const before = { follow: source.commands.follow, readings: seen.readings.length };
      await seen.until(before.readings + 10);
      return (source.commands.follow - before.follow) / (seen.readings.length - before.readings);
    };
    const few = await perReading(50);
    const many = await perReading(5000);
    console.log(`Redis follow commands per reading: ${few.toFixed(2)} with 50 listeners, ${many.toFixed(2)} with 5,000`);
    // One blocking read per reading at most (fewer when several arrive together), for 50 or 5,000 listeners.
    expect(few).toBeLessThanOrEqual(1.2);
    expect(many).toBeLessThanOrEqual(1.2);
  });

  it("fails at start with a message that names the URL when Redis cannot be reached", async () => {
    const error = await createRedisWeatherSource({
      url: "redis://127.0.0.1:1",
      tickMs: TICK_MS,
      historyWindowMs: 1000,
      connectTimeoutMs: 1000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
