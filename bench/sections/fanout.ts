import { startFanoutChild, startServerChild } from "../children.js";
import type { FanoutStats } from "../fanout-client.js";
import { check, type Row } from "../report.js";
import { fmt } from "../stats.js";

export const FANOUT_TICK_MS = 100;

export interface FanoutResult {
  readonly subscribers: number;
  readonly connections: number;
  readonly openMs: number;
  readonly deliveredPerSecond: number;
  readonly expectedPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly reconnects: number;
  /** Server CPU over the window as a share of one core (1 = 100 %; V8's GC threads can take it past 1). */
  readonly serverCpuCores: number;
  readonly serverRssBytes: number;
  readonly clientCpuCores: number;
}

/**
 * Row 5: `subscribers` Node subscribers (one child process, `connections`
 * WebSockets) on a fresh reference server in its own process; tick-to-delivery
 * latency and server resources over `windowMs` after a warm-up.
 */
export async function measureFanout(
  subscribers: number,
  connections: number,
  windowMs: number,
  log: (line: string) => void,
): Promise<FanoutResult> {
  const server = await startServerChild(["live", String(FANOUT_TICK_MS), "600000"]);
  try {
    const clients = await startFanoutChild(String(server.info["url"]), subscribers, connections);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await clients.command("start");
      const u0 = await server.usage();
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const stats = await clients.command<FanoutStats>("stop");
      const u1 = await server.usage();
      const wallUs = (u1.atMs - u0.atMs) * 1000;
      if (stats === undefined) throw new Error("no fan-out stats");
      log(`  fan-out ${subscribers}: ${fmt(stats.messages)} messages, p99 ${fmt(stats.p99Ms, 1)} ms`);
      return {
        subscribers,
        connections,
        openMs: clients.openMs,
        deliveredPerSecond: (stats.messages / stats.ms) * 1000,
        expectedPerSecond: (subscribers * 1000) / FANOUT_TICK_MS,
        p50Ms: stats.p50Ms,
        p99Ms: stats.p99Ms,
        maxMs: stats.maxMs,
        reconnects: stats.reconnects,
        serverCpuCores: (u1.userUs - u0.userUs + u1.systemUs - u0.systemUs) / wallUs,
        serverRssBytes: u1.rssBytes,
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
  const section = `5. Server fan-out: reference server (own process), tick ${FANOUT_TICK_MS} ms, Node subscribers in another process`;
  return results.flatMap((r) => {
    const name = `${fmt(r.subscribers)} subscribers on ${r.connections} WebSockets`;
    const gate = r.subscribers >= 5000;
    return [
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
        ratio: "",
        target: gate ? "p99 < 100 ms" : "",
        status: gate ? check(r.p99Ms, "<", 100) : "",
      },
      {
        section,
        name: "  server CPU / RSS (client CPU)",
        value: `${fmt(r.serverCpuCores * 100)} % / ${fmt(r.serverRssBytes / 1048576)} MiB`,
        ratio: `(client ${fmt(r.clientCpuCores * 100)} %)`,
        target: "",
        status: "",
      },
    ];
  });
}
