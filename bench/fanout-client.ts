/**
 * Many subscribers in one Node process: `node fanout-client.mjs <url[,url…]> <subscribers> <connections>`.
 * Each connection is one `createWeatherClient` (one WebSocket) carrying its
 * share of the subscriptions; with several URLs (instances) the connections go to them in turn. Reports `ready` when every subscription had a
 * message, then measures between `start` and `stop` commands.
 */
import { WebSocket } from "ws";
import { alwaysActive, createWeatherClient } from "../src/index.js";
import { CITIES } from "../src/simulation/index.js";
import type { ChildUsage } from "./shared.js";

export interface FanoutStats {
  readonly messages: number;
  readonly ms: number;
  /** Tick-to-delivery: receive time minus the reading's timestamp (the tick's start), ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly reconnects: number;
  /** CPU between start and stop (µs), RSS at stop. */
  readonly usage: ChildUsage;
}

type Command = { readonly cmd: "start" } | { readonly cmd: "stop" } | { readonly cmd: "exit" };

const [urlsArg = "", subscribersArg = "0", connectionsArg = "1"] = process.argv.slice(2);
const urls = urlsArg.split(",");
const subscribers = Number(subscribersArg);
const connections = Number(connectionsArg);
const codes = [...CITIES.keys()];
const now = () => performance.timeOrigin + performance.now();

let recording = false;
let latencies: number[] = [];
let reconnects = 0;
let startedAt = 0;
let cpuAtStart = process.cpuUsage();
let ready = 0;
const t0 = performance.now();

const clients = Array.from({ length: connections }, (_, i) =>
  createWeatherClient({
    baseUrl: urls[i % urls.length] ?? "",
    transports: ["websocket"],
    lifecycle: alwaysActive,
    webSocket: WebSocket,
    webSocketOptions: { connectTimeoutMs: 30_000 },
  }),
);
for (let i = 0; i < subscribers; i++) {
  const client = clients[i % connections];
  if (client === undefined) throw new Error("no client");
  const sub = client.subscribeWeather({ cityCode: codes[i % codes.length] ?? "NYC" });
  let first = true;
  sub.onMessage((m) => {
    if (recording) latencies.push(now() - Number(m.timestamp));
    if (first) {
      first = false;
      if (++ready === subscribers) process.send?.({ type: "ready", openMs: performance.now() - t0 });
    }
  });
  sub.onState((s) => {
    if (s.kind === "reconnecting") reconnects++;
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

process.on("message", (message: Command) => {
  if (message.cmd === "start") {
    latencies = [];
    recording = true;
    startedAt = performance.now();
    cpuAtStart = process.cpuUsage();
    return;
  }
  if (message.cmd === "stop") {
    recording = false;
    const sorted = Float64Array.from(latencies).sort();
    const cpu = process.cpuUsage(cpuAtStart);
    const stats: FanoutStats = {
      messages: sorted.length,
      ms: performance.now() - startedAt,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] ?? Number.NaN),
      reconnects,
      usage: {
        userUs: cpu.user,
        systemUs: cpu.system,
        rssBytes: process.memoryUsage().rss,
        atMs: performance.timeOrigin + performance.now(),
      },
    };
    process.send?.({ type: "stats", stats });
    return;
  }
  for (const client of clients) client.close();
  process.exit(0);
});
process.on("disconnect", () => process.exit(0));
