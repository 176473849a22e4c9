/**
 * Many subscribers in one Node process: `node fanout-client.mjs <url[,url…]> <subscribers> <connections> [sseSubscribers]`.
 * Each connection is one `createWeatherClient` (one WebSocket) carrying its
 * share of the subscriptions (with several URLs, instances, the connections go to them in turn); `sseSubscribers` of them go over SSE instead
 * (one response each, through one SSE-only client). With `raw` as the fifth
 * argument the WebSocket subscribers are raw tunnel streams (raw-fanout.ts);
 * with `raw-sse` the SSE subscribers are raw responses too, and with `raw-sse-h2:N` raw HTTP/2 (h2c) streams
 * spread over N sessions. Reports `ready` when every subscription had a
 * message, then measures between `start` and `stop` commands.
 */
import { WebSocket } from "ws";
import { alwaysActive, createWeatherClient } from "../src/index.js";
import { CITIES } from "../src/simulation/index.js";
import { Agent } from "node:http";
import { connect, type ClientHttp2Session } from "node:http2";
import { openRawConnection, openRawSseH2Subscription, openRawSseSubscription } from "./raw-fanout.js";
import type { ChildUsage } from "./shared.js";

export interface FanoutStats {
  readonly messages: number;
  readonly ms: number;
  /** Tick-to-delivery: receive time minus the reading's timestamp (the tick's start), ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly reconnects: number;
  /** Tick-to-delivery p99 of the SSE subscribers alone (NaN without any). */
  readonly sseP99Ms: number;
  /** CPU between start and stop (µs), RSS at stop. */
  readonly usage: ChildUsage;
}

type Command = { readonly cmd: "start" } | { readonly cmd: "stop" } | { readonly cmd: "exit" };

const [url = "", subscribersArg = "0", connectionsArg = "1", sseArg = "0", mode = "sdk"] = process.argv.slice(2);
const urls = url.split(",");
const subscribers = Number(subscribersArg);
const connections = Number(connectionsArg);
const sseSubscribers = Number(sseArg);
const codes = [...CITIES.keys()];
const now = () => performance.timeOrigin + performance.now();

let recording = false;
let latencies: number[] = [];
let sseLatencies: number[] = [];
let reconnects = 0;
let startedAt = 0;
let cpuAtStart = process.cpuUsage();
let ready = 0;
const t0 = performance.now();

const clients = Array.from({ length: mode === "raw" ? 0 : connections }, (_, i) =>
  createWeatherClient({
    baseUrl: urls[i % urls.length] ?? "",
    transports: ["websocket"],
    lifecycle: alwaysActive,
    webSocket: WebSocket,
    webSocketOptions: { connectTimeoutMs: 30_000 },
  }),
);
const sseClient = createWeatherClient({ baseUrl: urls[0] ?? url, transports: ["sse"], lifecycle: alwaysActive });
const onFirst = () => {
  if (++ready === subscribers) process.send?.({ type: "ready", openMs: performance.now() - t0 });
};
const raw: { close(): void }[] = [];
const h2Sessions = mode.startsWith("raw-sse-h2:") ? Number(mode.slice("raw-sse-h2:".length)) : 0;
const rawWebSockets = mode === "raw" || mode === "raw-sse" || h2Sessions > 0;
const rawSse = mode === "raw-sse" || h2Sessions > 0;
const sessions: ClientHttp2Session[] = [];
if (rawWebSockets) {
  const perConnection: string[][] = Array.from({ length: connections }, () => []);
  for (let i = sseSubscribers; i < subscribers; i++) perConnection[i % connections]?.push(codes[i % codes.length] ?? "NYC");
  for (const cities of perConnection) {
    raw.push(
      openRawConnection(
        url,
        cities,
        (timestampMs) => {
          if (recording) latencies.push(now() - timestampMs);
        },
        onFirst,
      ),
    );
  }
}
const onSseReading = (timestampMs: number): void => {
  if (!recording) return;
  const latency = now() - timestampMs;
  latencies.push(latency);
  sseLatencies.push(latency);
};
if (h2Sessions > 0) {
  // Room for every stream of a session at once (Node's client default allows 100 concurrent streams); the
  // reference server allows 256 per session, so 2,000 subscribers need at least 8 sessions.
  const perSession = Math.ceil(sseSubscribers / h2Sessions);
  for (let s = 0; s < h2Sessions; s++) {
    const session = connect(url, { peerMaxConcurrentStreams: perSession + 1, settings: { initialWindowSize: 1 << 20 } });
    session.once("connect", () => session.setLocalWindowSize(1 << 30));
    session.on("error", (e) => console.error(`HTTP/2 session: ${String(e)}`));
    sessions.push(session);
  }
  for (let i = 0; i < sseSubscribers; i++) {
    const session = sessions[i % h2Sessions];
    if (session === undefined) throw new Error("no session");
    raw.push(openRawSseH2Subscription(session, codes[i % codes.length] ?? "NYC", onSseReading, onFirst));
  }
} else if (rawSse) {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  for (let i = 0; i < sseSubscribers; i++) {
    raw.push(
      openRawSseSubscription(
        url,
        codes[i % codes.length] ?? "NYC",
        agent,
        (timestampMs) => {
          if (!recording) return;
          const latency = now() - timestampMs;
          latencies.push(latency);
          sseLatencies.push(latency);
        },
        onFirst,
      ),
    );
  }
}
for (let i = rawSse ? sseSubscribers : 0; i < (rawWebSockets ? sseSubscribers : subscribers); i++) {
  const sse = i < sseSubscribers;
  const client = sse ? sseClient : clients[i % connections];
  if (client === undefined) throw new Error("no client");
  const sub = client.subscribeWeather({ cityCode: codes[i % codes.length] ?? "NYC" });
  let first = true;
  sub.onMessage((m) => {
    if (recording) {
      const latency = now() - Number(m.timestamp);
      latencies.push(latency);
      if (sse) sseLatencies.push(latency);
    }
    if (first) {
      first = false;
      onFirst();
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
    sseLatencies = [];
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
      sseP99Ms: percentile(Float64Array.from(sseLatencies).sort(), 0.99),
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
  for (const connection of raw) connection.close();
  for (const session of sessions) session.close();
  sseClient.close();
  process.exit(0);
});
process.on("disconnect", () => process.exit(0));
