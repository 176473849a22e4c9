import { createClient } from "@redis/client";
import { redisUnavailableReason, startRedis } from "../../test/helpers/redis-server.js";
import { type ServerChild, startFanoutChild, startServerChild } from "../children.js";
import type { FanoutStats } from "../fanout-client.js";
import type { Row } from "../report.js";
import type { ChildUsage } from "../shared.js";
import { fmt } from "../stats.js";
import { FANOUT_TICK_MS } from "./fanout.js";

/** Cities of the simulation: each instance's ticker lease holder appends one reading per city per tick. */
const CITY_COUNT = 27;

export interface ScaleOutResult {
  readonly source: "simulated" | "redis";
  readonly instances: number;
  readonly subscribers: number;
  readonly connections: number;
  readonly deliveredPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Per instance, as a share of one core. */
  readonly cpuCoresPerInstance: readonly number[];
  /** (RSS with the subscribers − RSS before them) / subscribers on that instance, averaged over instances. */
  readonly bytesPerSubscriber: number;
  /** Redis commands (all instances) per reading appended to Redis over the window; undefined for the simulated source. */
  readonly redisCommandsPerReading?: number;
}

interface Config {
  readonly source: "simulated" | "redis";
  readonly instances: number;
  readonly subscribers: number;
}

/**
 * Scale-out: the same fan-out load on one simulated instance, one Redis-backed
 * instance and three Redis-backed instances (connections spread over them, as
 * a balancer would), side by side in one run. Skipped with a note when this
 * machine has no redis-server.
 */
export async function measureScaleOut(
  subscriberCounts: readonly number[],
  windowMs: number,
  log: (line: string) => void,
): Promise<ScaleOutResult[]> {
  const why = redisUnavailableReason();
  if (why !== undefined) {
    log(`  scale-out skipped: ${why}`);
    return [];
  }
  const redis = await startRedis();
  const results: ScaleOutResult[] = [];
  try {
    for (const subscribers of subscriberCounts) {
      for (const config of [
        { source: "simulated", instances: 1, subscribers },
        { source: "redis", instances: 1, subscribers },
        { source: "redis", instances: 3, subscribers },
      ] satisfies Config[]) {
        if (config.source === "redis") await flush(redis.url);
        results.push(await measureOne(config, redis.url, windowMs, log));
      }
    }
  } finally {
    await redis.stop();
  }
  return results;
}

async function flush(url: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  await client.flushAll();
  client.destroy();
}

async function measureOne(config: Config, redisUrl: string, windowMs: number, log: (line: string) => void): Promise<ScaleOutResult> {
  const args =
    config.source === "redis" ? ["redis", String(FANOUT_TICK_MS), "600000", redisUrl] : ["live", String(FANOUT_TICK_MS), "600000"];
  const servers: ServerChild[] = [];
  try {
    for (let i = 0; i < config.instances; i++) servers.push(await startServerChild(args));
    const idle = await Promise.all(servers.map((s) => s.usage()));
    // At most 2,500 subscriptions per WebSocket (the tunnel allows 4,096 streams per connection), at least 4 per instance.
    const connections = Math.max(4 * config.instances, Math.ceil(config.subscribers / 2500));
    const urls = servers.map((s) => String(s.info["url"])).join(",");
    const clients = await startFanoutChild(urls, config.subscribers, connections);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await clients.command("start");
      const u0 = await Promise.all(servers.map((s) => s.usage()));
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const stats = await clients.command<FanoutStats>("stop");
      const u1 = await Promise.all(servers.map((s) => s.usage()));
      if (stats === undefined) throw new Error("no fan-out stats");
      const cpu = u1.map((end, i) => cpuCores(u0[i], end));
      const perInstance = config.subscribers / config.instances;
      const bytesPerSubscriber = average(u1.map((end, i) => (end.rssBytes - (idle[i]?.rssBytes ?? 0)) / perInstance));
      const windowTicks = (u1[0] === undefined || u0[0] === undefined ? windowMs : u1[0].atMs - u0[0].atMs) / FANOUT_TICK_MS;
      const commands =
        config.source === "redis" ? sum(u1.map((end, i) => (end.redisCommands ?? 0) - (u0[i]?.redisCommands ?? 0))) : undefined;
      const name = `${config.source} ×${config.instances}, ${fmt(config.subscribers)} subscribers`;
      log(`  scale-out ${name}: p99 ${fmt(stats.p99Ms, 1)} ms`);
      return {
        ...config,
        connections,
        deliveredPerSecond: (stats.messages / stats.ms) * 1000,
        p50Ms: stats.p50Ms,
        p99Ms: stats.p99Ms,
        cpuCoresPerInstance: cpu,
        bytesPerSubscriber,
        redisCommandsPerReading: commands === undefined ? undefined : commands / (windowTicks * CITY_COUNT),
      };
    } finally {
      await clients.stop();
    }
  } finally {
    for (const server of servers) await server.stop();
  }
}

function cpuCores(start: ChildUsage | undefined, end: ChildUsage): number {
  if (start === undefined) return Number.NaN;
  return (end.userUs - start.userUs + end.systemUs - start.systemUs) / ((end.atMs - start.atMs) * 1000);
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const average = (values: readonly number[]) => (values.length === 0 ? Number.NaN : sum(values) / values.length);

export function scaleOutRows(results: readonly ScaleOutResult[]): Row[] {
  const section = `7. Scale-out: simulated single instance vs Redis Streams with 1 and 3 instances, tick ${FANOUT_TICK_MS} ms, 4 or more WebSockets per instance (at most 2,500 subscriptions on one)`;
  return results.map((r) => ({
    section,
    name: `${r.source} ×${r.instances}, ${fmt(r.subscribers)} subscribers`,
    value: `p50 ${fmt(r.p50Ms, 1)} / p99 ${fmt(r.p99Ms, 1)} ms`,
    ratio:
      `${fmt(r.deliveredPerSecond)} msgs/s; CPU per instance ${r.cpuCoresPerInstance.map((c) => `${fmt(c * 100)} %`).join(", ")}; ` +
      `${fmt(r.bytesPerSubscriber / 1024, 1)} KiB RSS per subscriber` +
      (r.redisCommandsPerReading === undefined ? "" : `; ${fmt(r.redisCommandsPerReading, 2)} Redis commands per reading`),
    target: "",
    status: "",
  }));
}
