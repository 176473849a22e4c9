import { startFanoutChild, startServerChild } from "../children.js";
import type { FanoutStats } from "../fanout-client.js";
import { check, type Row } from "../report.js";
import { fmt } from "../stats.js";

export const FANOUT_TICK_MS = 100;
/** The title of section 5, whose rows come from this file and from sse-floor.ts. */
export const FANOUT_SECTION = `5. Server fan-out: reference server (own process), tick ${FANOUT_TICK_MS} ms, Node subscribers in another process`;
/** How often the server's RSS is sampled during the window (memory must stay flat). */
const RSS_SAMPLE_MS = 5000;

/** One fan-out run. */
export interface FanoutParams {
  readonly subscribers: number;
  /** WebSockets carrying the subscribers that are not on SSE. */
  readonly connections: number;
  /** Subscribers over SSE (one response each), included in `subscribers`. Default 0. */
  readonly sseSubscribers?: number;
  readonly windowMs: number;
  /** Raw tunnel streams that read only the timestamp (bench/raw-fanout.ts) instead of SDK clients. Default false. */
  readonly raw?: boolean;
  /**
   * With `raw`, the SSE subscribers too are raw responses that read only each event's `id:`
   * (`"raw"`, the default), or the SDK's SSE transport (`"sdk"`).
   */
  readonly sseClients?: "raw" | "sdk";
  /** With raw SSE subscribers: HTTP/2 (h2c) streams over this many sessions instead of one HTTP/1.1 connection each. */
  readonly sseHttp2Sessions?: number;
}

export interface FanoutResult {
  readonly subscribers: number;
  readonly connections: number;
  readonly sseSubscribers: number;
  readonly raw: boolean;
  /** How the SSE subscribers were read (see {@link FanoutParams.sseClients}). */
  readonly sseClients: "raw" | "sdk";
  /** HTTP/2 sessions carrying the SSE subscribers (0: HTTP/1.1, one connection each). */
  readonly sseHttp2Sessions: number;
  readonly openMs: number;
  readonly deliveredPerSecond: number;
  readonly expectedPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** p99 of the SSE subscribers alone. */
  readonly sseP99Ms: number;
  readonly reconnects: number;
  /** Server CPU over the window as a share of one core (1 = 100 %; V8's GC threads can take it past 1). */
  readonly serverCpuCores: number;
  /** Share of the server's CPU spent in the kernel (system time): sockets, loopback TCP. */
  readonly serverSystemShare: number;
  /** Server CPU per delivered message, µs (all of it: ticker, encoding, sockets, GC). */
  readonly serverCpuPerMessageUs: number;
  readonly serverRssBytes: number;
  /** RSS every {@link RSS_SAMPLE_MS} over the window. */
  readonly rssSamplesBytes: readonly number[];
  /** Heap after GC with the subscribers minus before they opened, per subscriber (taken after the window). */
  readonly heapPerSubscriberBytes: number;
  /** RSS then minus RSS before they opened, per subscriber. */
  readonly rssPerSubscriberBytes: number;
  readonly clientCpuCores: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Section 5: `subscribers` Node subscribers (one child process, `connections`
 * WebSockets, `sseSubscribers` of them on SSE) on a fresh reference server in
 * its own process; tick-to-delivery latency and server resources over
 * `windowMs` after a warm-up, then the server's heap after GC.
 */
export async function measureFanout(params: FanoutParams, log: (line: string) => void): Promise<FanoutResult> {
  const { subscribers, connections, windowMs } = params;
  const sseSubscribers = params.sseSubscribers ?? 0;
  const server = await startServerChild(["live", String(FANOUT_TICK_MS), "600000"]);
  try {
    const empty = await server.heap();
    const raw = params.raw ?? false;
    const sseClients = raw ? (params.sseClients ?? "raw") : "sdk";
    const sseHttp2Sessions = raw && sseClients === "raw" ? (params.sseHttp2Sessions ?? 0) : 0;
    const mode = raw && sseClients === "raw" ? (sseHttp2Sessions > 0 ? (`raw-sse-h2:${sseHttp2Sessions}` as const) : "raw-sse") : raw;
    const clients = await startFanoutChild(String(server.info["url"]), subscribers, connections, sseSubscribers, mode);
    try {
      await sleep(2000);
      await clients.command("start");
      const u0 = await server.usage();
      const rssSamplesBytes: number[] = [];
      for (let waited = 0; waited < windowMs; waited += RSS_SAMPLE_MS) {
        await sleep(Math.min(RSS_SAMPLE_MS, windowMs - waited));
        rssSamplesBytes.push((await server.usage()).rssBytes);
      }
      const stats = await clients.command<FanoutStats>("stop");
      const u1 = await server.usage();
      const full = await server.heap();
      const wallUs = (u1.atMs - u0.atMs) * 1000;
      if (stats === undefined) throw new Error("no fan-out stats");
      const cpuUs = u1.userUs - u0.userUs + u1.systemUs - u0.systemUs;
      log(`  fan-out ${subscribers}/${connections}/${sseSubscribers}: ${fmt(stats.messages)} messages, p99 ${fmt(stats.p99Ms, 1)} ms`);
      return {
        subscribers,
        connections,
        sseSubscribers,
        raw,
        sseClients,
        sseHttp2Sessions,
        openMs: clients.openMs,
        deliveredPerSecond: (stats.messages / stats.ms) * 1000,
        expectedPerSecond: (subscribers * 1000) / FANOUT_TICK_MS,
        p50Ms: stats.p50Ms,
        p99Ms: stats.p99Ms,
        maxMs: stats.maxMs,
        sseP99Ms: stats.sseP99Ms,
        reconnects: stats.reconnects,
        serverCpuCores: cpuUs / wallUs,
        serverSystemShare: (u1.systemUs - u0.systemUs) / cpuUs,
        // Messages the server sent in the server's window: the clients' count over their window, scaled.
        serverCpuPerMessageUs: cpuUs / ((stats.messages / stats.ms) * (wallUs / 1000)),
        serverRssBytes: u1.rssBytes,
        rssSamplesBytes,
        heapPerSubscriberBytes: (full.heapBytes - empty.heapBytes) / subscribers,
        rssPerSubscriberBytes: (full.rssBytes - empty.rssBytes) / subscribers,
        clientCpuCores: (stats.usage.userUs + stats.usage.systemUs) / (stats.ms * 1000),
      };
    } finally {
      await clients.stop();
    }
  } finally {
    await server.stop();
  }
}

export function fanoutRows(results: readonly FanoutResult[]): Row[] {
  const section = FANOUT_SECTION;
  return results.flatMap((r) => {
    const sse =
      r.sseSubscribers > 0
        ? ` + ${fmt(r.sseSubscribers)} of them on SSE${r.raw ? ` (${r.sseClients === "raw" ? "raw" : "SDK"})` : ""}${
            r.sseHttp2Sessions > 0
              ? ` over HTTP/2 (${r.sseHttp2Sessions} sessions)`
              : r.raw && r.sseClients === "raw"
                ? " over HTTP/1.1"
                : ""
          }`
        : "";
    const name = `${fmt(r.subscribers)} ${r.raw ? "raw " : ""}subscribers on ${r.connections} WebSockets${sse}`;
    const gate = r.subscribers >= 5000;
    const big = r.subscribers >= 20_000;
    const rss = r.rssSamplesBytes;
    const first = rss[0] ?? Number.NaN;
    const last = rss[rss.length - 1] ?? Number.NaN;
    const rows: Row[] = [
      {
        section,
        name,
        value: `${fmt(r.deliveredPerSecond)} msgs/s`,
        ratio: `of ${fmt(r.expectedPerSecond)} ticked${r.reconnects > 0 ? `, ${r.reconnects} reconnects` : ""}; all open in ${fmt(r.openMs)} ms`,
        target: "",
        status: "",
      },
      {
        section,
        name: "  tick-to-delivery p50 / p99 / max",
        value: `${fmt(r.p50Ms, 1)} / ${fmt(r.p99Ms, 1)} / ${fmt(r.maxMs, 1)} ms`,
        ratio: r.sseSubscribers > 0 ? `SSE p99 ${fmt(r.sseP99Ms, 1)} ms` : "",
        target: gate ? "p99 < 100 ms" : "",
        status: gate ? check(r.p99Ms, "<", 100) : "",
      },
      {
        section,
        name: "  server CPU / RSS (client CPU)",
        value: `${fmt(r.serverCpuCores * 100)} % (${fmt(r.serverSystemShare * 100)} % of it system) / ${fmt(r.serverRssBytes / 1048576)} MiB`,
        ratio: `(client ${fmt(r.clientCpuCores * 100)} %)`,
        target: "",
        status: "",
      },
      {
        section,
        name: "  server CPU per delivered message",
        value: `${fmt(r.serverCpuPerMessageUs, 2)} µs`,
        ratio: "",
        target: big ? "≤ 1 µs" : "",
        status: big ? check(r.serverCpuPerMessageUs, "<=", 1) : "",
      },
      {
        section,
        name: "  server memory per subscriber: heap after GC / RSS",
        value: `${fmt(r.heapPerSubscriberBytes / 1024, 1)} / ${fmt(r.rssPerSubscriberBytes / 1024, 1)} KiB`,
        ratio: `RSS over the window ${fmt(first / 1048576)} → ${fmt(last / 1048576)} MiB (max ${fmt(Math.max(...rss) / 1048576)})`,
        target: big ? (r.sseSubscribers > 0 ? "≤ 8 KB (WS), ≤ 16 KB (SSE)" : "≤ 8 KB") : "",
        status: big
          ? check(r.heapPerSubscriberBytes, "<=", r.sseSubscribers > 0 ? 8192 + (8192 * r.sseSubscribers) / r.subscribers : 8192)
          : "",
      },
    ];
    return rows;
  });
}
