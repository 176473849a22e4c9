// Chaos (issue 20 item 6): the reference server, a real child process on the Redis Streams source, is
// killed with SIGKILL and restarted on the same port again and again while clients on every transport
// (WebSocket tunnel, SSE, Connect) hold subscriptions through createWeatherClient. Checked against the
// oracle, each city's stream as Redis holds it at the end:
// - every client received every reading of its city from its first one on, exactly once, in order
//   (nothing lost, nothing twice, nothing out of order), through every kill;
// - `recovered` is reported correctly: true on every resume (the history window, 600 s, outlasts every
//   outage), and false exactly once for the clients that start from a cursor whose successor was trimmed.
// Readings persist across kills because they live in Redis (AOF, fsync always); a restarted instance takes
// the ticker lease once the dead one's lapses (2 s) and appends every tick missed meanwhile, so the oracle
// has no holes either.
//
// Short form in `npm test` (CHAOS_KILLS=3, CHAOS_CLIENTS=10); the long form is `npm run chaos` (20 kills,
// 50 clients). Kills come at three moments in turn, each chosen by an event, never by a timer: once every
// client is streaming, as soon as the first reading of the new instance reaches a client (others still
// reconnecting or replaying), and right after the ready line (before the new instance holds the lease).
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { createClient as createRedisClient } from "@redis/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWeatherClient, type SubscriptionState, type TransportKind } from "../../src/index.js";
import { freePort, waitForOutput } from "../helpers/process-output.js";
import { type RedisProcess, redisUnavailableReason, startRedis } from "../helpers/redis-server.js";

const KILLS = Number(process.env["CHAOS_KILLS"] ?? 3);
const CLIENTS = Number(process.env["CHAOS_CLIENTS"] ?? 10);
const TICK_MS = 100;
/** How long one awaited event (a restart, every client moving on) may take before the run fails with a report. */
const STEP_TIMEOUT_MS = 45_000;
const CLI = new URL("../../dist/server/cli.js", import.meta.url).pathname;
const TRANSPORTS: readonly TransportKind[] = ["websocket", "sse", "connect"];
const CITY_CODES = ["NYC", "LON", "PAR", "TYO"];
/** The city whose stream is seeded with a trimmed past, for the clients that must report `recovered: false`. */
const STALE_CITY = "SYD";
const skipReason = redisUnavailableReason();
if (skipReason !== undefined) console.log(`skipping the chaos test: ${skipReason}`);

interface Watcher {
  readonly name: string;
  readonly transport: TransportKind;
  readonly city: string;
  /** Starts after this cursor (a trimmed reading): its first open must report `recovered: false`. */
  readonly after: bigint | undefined;
  readonly timestamps: bigint[];
  readonly states: SubscriptionState[];
  /** Kills that found it open: each ended its stream, so each must be followed by another open. */
  killsWhileOpen: number;
  close(): void;
}

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** Peak resident set (VmHWM) of a live process in bytes, where /proc has it (Linux). */
function peakRssBytes(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

describe.skipIf(skipReason !== undefined)("chaos: SIGKILL and restart of the server under live subscriptions", () => {
  let redis: RedisProcess | undefined;
  let redisUrl = "";
  let port: number;
  let server: Child | undefined;
  let serverPeakRss = 0;
  const watchers: Watcher[] = [];
  /** Conditions waiting for the next message or state change (checked on each, not on a timer). */
  const waiting = new Set<() => void>();
  let delivered = 0;

  const notify = () => {
    for (const check of [...waiting]) check();
  };

  /** Resolves once `condition` holds, re-checked on every message and state change; fails with `report()` after STEP_TIMEOUT_MS. */
  function until(condition: () => boolean, report: () => string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(check);
        reject(new Error(`timed out after ${STEP_TIMEOUT_MS} ms: ${report()}`));
      }, STEP_TIMEOUT_MS);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        waiting.delete(check);
        resolve();
      };
      waiting.add(check);
      check();
    });
  }

  /** Resolves once every watcher has `more` readings beyond what it holds now. */
  function everyWatcherGets(more: number): Promise<void> {
    const targets = new Map(watchers.map((w) => [w, w.timestamps.length + more]));
    const behind = () => watchers.filter((w) => w.timestamps.length < (targets.get(w) ?? 0));
    return until(
      () => behind().length === 0,
      () =>
        `${behind().length} clients behind: ` +
        behind()
          .slice(0, 6)
          .map((w) => `${w.name} has ${w.timestamps.length}, last state ${describeState(w.states.at(-1))}`)
          .join("; "),
    );
  }

  async function startServer(): Promise<void> {
    const child = spawn(process.execPath, [CLI], {
      env: { ...process.env, PORT: String(port), TICK_MS: String(TICK_MS), WEATHER_SOURCE: "redis", WEATHER_REDIS_URL: redisUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server = child;
    await waitForOutput(child, "listening on", `server on port ${port}`);
  }

  async function killServer(signal: NodeJS.Signals): Promise<void> {
    const child = server;
    server = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    serverPeakRss = Math.max(serverPeakRss, peakRssBytes(child.pid));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }

  function watch(index: number, after: bigint | undefined): Watcher {
    const transport = TRANSPORTS[index % TRANSPORTS.length] ?? "websocket";
    const city = after === undefined ? (CITY_CODES[index % CITY_CODES.length] ?? "NYC") : STALE_CITY;
    const weather = createWeatherClient({
      baseUrl: `http://127.0.0.1:${port}`,
      transports: [transport],
      reconnect: { initialDelayMs: 20, maxDelayMs: 250 },
      webSocketOptions: { pingIntervalMs: 1000, pingTimeoutMs: 1000 },
    });
    const abort = new AbortController();
    const sub = weather.subscribeWeather(
      { cityCode: city },
      after === undefined ? { signal: abort.signal } : { signal: abort.signal, after },
    );
    const watcher: Watcher = {
      name: `#${index} ${transport} ${city}${after === undefined ? "" : " (stale cursor)"}`,
      transport,
      city,
      after,
      timestamps: [],
      states: [],
      killsWhileOpen: 0,
      close: () => {
        abort.abort();
        weather.close();
      },
    };
    sub.onMessage((r) => {
      watcher.timestamps.push(r.timestamp);
      delivered++;
      notify();
    });
    sub.onState((s) => {
      watcher.states.push(s);
      notify();
    });
    watchers.push(watcher);
    return watcher;
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error("dist/server/cli.js is missing: run `npm run build` first (`npm test` and `npm run chaos` do)");
    redis = await startRedis();
    redisUrl = redis.url;
    port = await freePort();
  });

  afterAll(async () => {
    for (const w of watchers) w.close();
    await killServer("SIGKILL");
    await redis?.stop();
  });

  it(
    `${KILLS} SIGKILLs under ${CLIENTS} clients: every reading exactly once, in order, recovered reported correctly`,
    async () => {
      const startedMs = Date.now();
      // A past for STALE_CITY that the history no longer holds: readings at OLD and OLD + 1 tick, trimmed away,
      // then RECENT. A client resuming after OLD has missed OLD + 1 tick.
      const nowTick = Math.floor(Date.now() / TICK_MS) * TICK_MS;
      const OLD = BigInt(nowTick - 700_000);
      const RECENT = BigInt(nowTick - 10 * TICK_MS);
      const seed = createRedisClient({ url: redisUrl });
      await seed.connect();
      const key = `weather:{${STALE_CITY}}`;
      for (const ms of [OLD, OLD + BigInt(TICK_MS), RECENT]) {
        await seed.sendCommand(["XADD", key, `${ms}-0`, "t", "20", "h", "50", "d", "seed", "x", "seed"]);
      }
      await seed.sendCommand(["XTRIM", key, "MINID", "=", `${RECENT}-0`]);
      seed.destroy();

      await startServer();
      // One stale-cursor client per transport, the others live from whatever is newest.
      const staleClients = Math.min(TRANSPORTS.length, CLIENTS);
      for (let i = 0; i < CLIENTS; i++) watch(i, i < staleClients ? OLD : undefined);
      await everyWatcherGets(2);

      for (let kill = 0; kill < KILLS; kill++) {
        const moment = kill % 3;
        if (moment === 0) {
          await everyWatcherGets(2);
        } else if (moment === 1) {
          const before = delivered;
          await until(
            () => delivered > before,
            () => "no reading from the restarted server",
          );
        }
        // moment 2: at once, right after the ready line
        for (const w of watchers) if (w.states.at(-1)?.kind === "open") w.killsWhileOpen++;
        await killServer("SIGKILL");
        await startServer();
      }
      await everyWatcherGets(3);

      // The oracle: each city's stream in Redis, read after the last restart; then every client catches up to its end.
      const redisClient = createRedisClient({ url: redisUrl });
      await redisClient.connect();
      const streams = new Map<string, bigint[]>();
      for (const city of [...CITY_CODES, STALE_CITY]) {
        const entries = await redisClient.xRange(`weather:{${city}}`, "-", "+");
        streams.set(
          city,
          (entries ?? []).map((e) => BigInt(e.id.split("-")[0] ?? "0")),
        );
      }
      redisClient.destroy();
      await until(
        () => watchers.every((w) => (w.timestamps.at(-1) ?? 0n) >= (streams.get(w.city)?.at(-1) ?? 0n)),
        () => "clients did not reach the end of their city's stream",
      );
      const durationMs = Date.now() - startedMs;
      serverPeakRss = Math.max(serverPeakRss, peakRssBytes(server?.pid));

      // Every tick is in the oracle: a restarted instance appended those missed while no instance held the lease.
      let streamHoles = 0;
      for (const stream of streams.values()) {
        for (let i = 1; i < stream.length; i++) streamHoles += Number(((stream[i] ?? 0n) - (stream[i - 1] ?? 0n)) / BigInt(TICK_MS)) - 1;
      }
      let lost = 0;
      let duplicated = 0;
      let outOfOrder = 0;
      let resumedRecovered = 0;
      let reportedGaps = 0;
      const failures: string[] = [];
      for (const w of watchers) {
        const stream = streams.get(w.city) ?? [];
        const last = stream.at(-1) ?? 0n;
        const got = w.timestamps.filter((t) => t <= last);
        const first = w.after === undefined ? (got[0] ?? 0n) : RECENT;
        const expected = stream.filter((t) => t >= first);
        const gotSet = new Set(got);
        const wLost = expected.filter((t) => !gotSet.has(t)).length;
        const wDuplicated = got.length - gotSet.size;
        const wOutOfOrder = got.filter((t, i) => i > 0 && t <= (got[i - 1] ?? 0n)).length;
        lost += wLost;
        duplicated += wDuplicated;
        outOfOrder += wOutOfOrder;
        if (wLost + wDuplicated + wOutOfOrder > 0)
          failures.push(`${w.name}: ${wLost} lost, ${wDuplicated} twice, ${wOutOfOrder} out of order`);
        if (w.after !== undefined && got[0] !== RECENT)
          failures.push(`${w.name}: first reading ${got[0]}, expected the oldest kept, ${RECENT}`);

        const opens = w.states.filter((s) => s.kind === "open");
        // The first open of a live client resumes nothing; every later one resumes after the last reading delivered.
        const resumed = w.after === undefined ? opens.slice(1) : opens;
        const expectedRecovered = resumed.map((_, i) => !(w.after !== undefined && i === 0));
        const actualRecovered = resumed.map((s) => s.recovered);
        resumedRecovered += actualRecovered.filter(Boolean).length;
        reportedGaps += actualRecovered.filter((r) => !r).length;
        if (JSON.stringify(actualRecovered) !== JSON.stringify(expectedRecovered)) {
          failures.push(`${w.name}: recovered ${JSON.stringify(actualRecovered)}, expected ${JSON.stringify(expectedRecovered)}`);
        }
        if (resumed.length < w.killsWhileOpen + (w.after === undefined ? 0 : 1)) {
          failures.push(`${w.name}: ${resumed.length} resuming opens after ${w.killsWhileOpen} kills that found it open`);
        }
        const closed = w.states.find((s) => s.kind === "closed");
        if (closed !== undefined) failures.push(`${w.name}: closed (${describeState(closed)})`);
      }

      const perTransport = Object.fromEntries(TRANSPORTS.map((t) => [t, watchers.filter((w) => w.transport === t).length]));
      console.log(
        `chaos: ${JSON.stringify({
          kills: KILLS,
          clients: CLIENTS,
          clientsPerTransport: perTransport,
          staleCursorClients: staleClients,
          tickMs: TICK_MS,
          readingsDelivered: delivered,
          ticksMissingFromRedis: streamHoles,
          lost,
          duplicated,
          outOfOrder,
          resumesReportedRecovered: resumedRecovered,
          resumesReportedGap: reportedGaps,
          serverPeakRssMiB: mib(serverPeakRss),
          testProcessPeakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
          durationS: Math.round(durationMs / 100) / 10,
        })}`,
      );
      expect(failures).toEqual([]);
      expect(streamHoles).toBe(0);
      expect({ lost, duplicated, outOfOrder }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 });
      expect(reportedGaps).toBe(staleClients);
    },
    60_000 + KILLS * 20_000,
  );
});

function describeState(state: SubscriptionState | undefined): string {
  if (state === undefined) return "none";
  if (state.kind === "reconnecting") return `reconnecting (attempt ${state.attempt}: ${state.error.message})`;
  if (state.kind === "closed") return `closed ${state.reason}${state.error === undefined ? "" : `: ${state.error.message}`}`;
  return state.kind;
}
