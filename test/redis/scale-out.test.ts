// Three reference-server processes on one Redis behind a round-robin balancer, killed
// one after another with SIGKILL while stations report readings, then Redis itself
// killed and restarted: every subscriber must get every reading of its city's stream
// exactly once, in order, and readings reported on one instance reach the others.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { createClient as createRedisClient } from "@redis/client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createWeatherClient, type SubscriptionState, type TransportKind, WeatherResponseSchema } from "../../src/index.js";
import { REPORT_CITY_HEADER } from "../../src/server/index.js";
import { freePort, waitForOutput } from "../helpers/process-output.js";
import { type RedisProcess, redisUnavailableReason, startRedis } from "../helpers/redis-server.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "../helpers/round-robin-proxy.js";

const TICK_MS = 50;
const CLI = new URL("../../dist/server/cli.js", import.meta.url).pathname;
const skipReason = redisUnavailableReason();
if (skipReason !== undefined) console.log(`skipping the scale-out test: ${skipReason}`);

interface Instance {
  readonly port: number;
  process?: ChildProcess;
}

interface Watcher {
  readonly name: string;
  readonly city: string;
  readonly timestamps: bigint[];
  readonly descriptions: string[];
  readonly states: SubscriptionState[];
  close(): void;
}

describe.skipIf(skipReason !== undefined)("scale-out: three instances on one Redis", () => {
  let redis: RedisProcess;
  let proxy: RoundRobinProxy;
  const instances: Instance[] = [];
  const watchers: Watcher[] = [];

  async function startInstance(instance: Instance): Promise<void> {
    const child = spawn(process.execPath, [CLI], {
      env: { ...process.env, PORT: String(instance.port), TICK_MS: String(TICK_MS), WEATHER_SOURCE: "redis", WEATHER_REDIS_URL: redis.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    instance.process = child;
    await waitForOutput(child, "listening on", `instance on ${instance.port}`);
  }

  async function killInstance(instance: Instance): Promise<void> {
    const child = instance.process;
    instance.process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  function watch(name: string, baseUrl: string, transports: TransportKind[], city: string): Watcher {
    const weather = createWeatherClient({
      baseUrl,
      transports,
      reconnect: { initialDelayMs: 20, maxDelayMs: 250 },
      webSocketOptions: { pingIntervalMs: 1000, pingTimeoutMs: 1000 },
    });
    const abort = new AbortController();
    const sub = weather.subscribeWeather({ cityCode: city }, { signal: abort.signal });
    const watcher: Watcher = {
      name,
      city,
      timestamps: [],
      descriptions: [],
      states: [],
      close: () => {
        abort.abort();
        weather.close();
      },
    };
    sub.onMessage((r) => {
      watcher.timestamps.push(r.timestamp);
      watcher.descriptions.push(r.description);
    });
    sub.onState((s) => watcher.states.push(s));
    watchers.push(watcher);
    return watcher;
  }

  /** Resolves once every watcher has `more` readings beyond what it had when called. */
  async function everyWatcherGets(more: number, timeoutMs = 15_000, except?: Watcher): Promise<void> {
    const targets = watchers.map((w) => w.timestamps.length + more);
    const behind = () => watchers.filter((w, i) => w !== except && w.timestamps.length < (targets[i] ?? 0));
    await vi
      .waitUntil(() => behind().length === 0, { timeout: timeoutMs, interval: 20 })
      .catch((e: unknown) => {
        const report = behind().map(
          (w) =>
            `${w.name}: ${w.timestamps.length} readings, last state ${JSON.stringify(w.states.at(-1), (_, v: unknown) => (typeof v === "bigint" ? String(v) : v instanceof Error ? v.message : v))}`,
        );
        throw new Error(`${report.length} watchers behind:\n${report.slice(0, 8).join("\n")}`, { cause: e });
      });
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error("dist/server/cli.js is missing: run `npm run build` first (`npm test` does)");
    redis = await startRedis();
    for (let i = 0; i < 3; i++) instances.push({ port: await freePort() });
    await Promise.all(instances.map(startInstance));
    proxy = await startRoundRobinProxy(instances.map((i) => i.port));
  });

  afterAll(async () => {
    for (const w of watchers) w.close();
    await Promise.all(instances.map(killInstance));
    await proxy.close();
    await redis.stop();
  });

  it("delivers every reading exactly once and in order through SIGKILLs of each instance and a Redis restart", async () => {
    const [a, b, c] = instances;
    if (a === undefined || b === undefined || c === undefined) throw new Error("three instances");
    const url = (instance: Instance) => `http://127.0.0.1:${instance.port}`;

    // 50 subscribers through the balancer on mixed transports, plus one on B and one on C directly.
    const kinds: TransportKind[][] = [["websocket"], ["connect"], ["sse"], ["websocket", "connect", "sse"]];
    const cities = ["NYC", "LON", "PAR"];
    for (let i = 0; i < 50; i++)
      watch(`via proxy #${i}`, proxy.url, kinds[i % kinds.length] ?? ["websocket"], cities[i % cities.length] ?? "NYC");
    const onB = watch("direct to B", url(b), ["websocket"], "PAR");
    const onC = watch("direct to C", url(c), ["sse"], "PAR");
    await everyWatcherGets(3);
    expect([...proxy.connections.keys()].sort()).toEqual(instances.map((i) => i.port).sort());

    // A station reports PAR readings to instance A only, retrying through A's restart.
    const station = createWeatherClient({ baseUrl: url(a), transports: ["websocket"], reconnect: { initialDelayMs: 20, maxDelayMs: 250 } });
    const stationState = { reporting: true };
    let reported = 0;
    const stationLoop = (async () => {
      while (stationState.reporting) {
        const reading = create(WeatherResponseSchema, {
          temperature: 20,
          humidity: 50,
          description: `station ${reported}`,
          timestamp: BigInt(Date.now()),
        });
        try {
          await station.reportBatch([reading], { headers: { [REPORT_CITY_HEADER]: "PAR" }, timeoutMs: 2000 });
          reported++;
        } catch {
          // A down (Unavailable) or a tick at the same millisecond (FailedPrecondition): report a newer one.
        }
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    await vi.waitUntil(() => reported >= 3, { timeout: 10_000 });

    for (const instance of [a, b, c]) {
      await killInstance(instance);
      // Everyone but the one subscriber pinned to the dead instance carries on through the balancer.
      await everyWatcherGets(2, 15_000, instance === b ? onB : instance === c ? onC : undefined);
      await startInstance(instance);
      await everyWatcherGets(2);
    }

    await redis.kill();
    await vi.waitUntil(
      async () => {
        const res = await fetch(`${url(b)}/healthz`).catch(() => undefined);
        return res?.status === 503;
      },
      { timeout: 10_000, interval: 50 },
    );
    await redis.restart();
    await everyWatcherGets(5, 30_000);
    stationState.reporting = false;
    await stationLoop;
    station.close();

    // The oracle: each city's stream in Redis, read after every watcher has caught up with its newest entry.
    const client = createRedisClient({ url: redis.url });
    await client.connect();
    const streams = new Map<string, bigint[]>();
    for (const city of cities) {
      const entries = await client.xRange(`weather:{${city}}`, "-", "+");
      streams.set(
        city,
        (entries ?? []).map((e) => BigInt(e.id.split("-")[0] ?? "0")),
      );
    }
    client.destroy();
    await vi.waitUntil(() => watchers.every((w) => (w.timestamps.at(-1) ?? 0n) >= (streams.get(w.city)?.at(-1) ?? 0n)), {
      timeout: 15_000,
      interval: 20,
    });
    for (const w of watchers) {
      const stream = streams.get(w.city) ?? [];
      const last = stream.at(-1) ?? 0n;
      const got = w.timestamps.filter((t) => t <= last);
      const first = got[0] ?? 0n;
      expect(got, `${w.name} (${w.city}) got every reading of the stream from its first on, once, in order`).toEqual(
        stream.filter((t) => t >= first),
      );
      expect(
        w.states.some((s) => s.kind === "open" && !s.recovered),
        `${w.name} never reported a gap`,
      ).toBe(false);
    }
    // Readings reported on A reached the subscribers of B and C.
    for (const w of [onB, onC]) expect(w.descriptions.filter((d) => d.startsWith("station ")).length).toBeGreaterThanOrEqual(3);
    expect(reported).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
