import type { ServerChild } from "../children.js";
import type { HotFunction } from "../profile.js";
import { check, ratio, type Row } from "../report.js";
import type { StreamPath } from "../shared.js";
import { fmt, median } from "../stats.js";
import { type BrowserContext, collectGarbage, profileStream, runStream } from "./context.js";

/** The client paths of row 1, baseline first. */
export const STREAM_PATHS: readonly { readonly path: StreamPath; readonly label: string }[] = [
  { path: "raw-ws", label: "raw WebSocket + fromBinary (baseline)" },
  { path: "sub-onmessage", label: "tunnel: subscription onMessage" },
  { path: "sub-forawait", label: "tunnel: subscription for await" },
  { path: "tunnel-client", label: "tunnel: createClient + createWebSocketTransport, for await" },
  { path: "connect-web", label: "connect-web Connect, for await" },
  { path: "grpc-web", label: "connect-web gRPC-Web, for await" },
  { path: "sse-client", label: "SSE: createClient + createSseTransport, for await" },
  { path: "sse-sub-onmessage", label: "SSE: subscription onMessage" },
];

export interface PathRuns {
  readonly path: StreamPath;
  /** Messages per second of each measured run. */
  readonly rates: number[];
  readonly median: number;
  /** Server → client bytes of the first measured run, and client → server. */
  readonly downBytes: number;
  readonly upBytes: number;
}

export interface ThroughputResult {
  readonly paths: PathRuns[];
  readonly payloadBytes: number;
  readonly profiles: Record<string, HotFunction[]>;
}

/** Row 1: every client path against the replay server, interleaved, median of `runs` after one warm-up round. */
export async function measureThroughput(ctx: BrowserContext, replay: ServerChild): Promise<ThroughputResult> {
  const baseUrl = String(replay.info["url"]);
  await ctx.page.open(`${baseUrl}/bench`, ctx.script);
  const runs = new Map<StreamPath, PathRuns>(STREAM_PATHS.map(({ path }) => [path, { path, rates: [], median: 0, downBytes: 0, upBytes: 0 }]));
  for (let round = -1; round < ctx.runs; round++) {
    // Rotate the order each round so drift (thermal, GC, caches) does not favour one path.
    const order = STREAM_PATHS.map((_, i) => STREAM_PATHS[(i + Math.max(0, round)) % STREAM_PATHS.length]);
    for (const entry of order) {
      if (entry === undefined) continue;
      await collectGarbage(ctx.page);
      const before = await replay.bytes();
      const result = await runStream(ctx.page, { path: entry.path, baseUrl, count: ctx.count });
      const after = await replay.bytes();
      if (result.count !== ctx.count) throw new Error(`${entry.path}: got ${result.count} of ${ctx.count} messages`);
      if (round < 0) continue; // warm-up
      const r = runs.get(entry.path);
      if (r === undefined) continue;
      r.rates.push((result.count / result.ms) * 1000);
      if (round === 0) runs.set(entry.path, { ...r, downBytes: after.down - before.down, upBytes: after.up - before.up });
    }
    ctx.log(`  throughput round ${round < 0 ? "warm-up" : round + 1} done`);
  }
  const paths = [...runs.values()].map((r) => ({ ...r, median: median(r.rates) }));
  const profiles: Record<string, HotFunction[]> = {};
  for (const { path } of STREAM_PATHS) {
    if (ctx.profile.has(path)) profiles[path] = await profileStream(ctx, `replay-${path}`, { path, baseUrl, count: ctx.count });
  }
  return { paths, payloadBytes: Number(replay.info["payloadBytes"]), profiles };
}

const TARGETS: Partial<Record<StreamPath, { raw: number; connect?: number }>> = {
  "sub-onmessage": { raw: 0.8, connect: 2.5 },
  "sub-forawait": { raw: 0.6 },
  "tunnel-client": { raw: 0.45, connect: 2 },
  "sse-client": { raw: 0.5 },
};

export function throughputRows(result: ThroughputResult, count: number): Row[] {
  const section = `1. Browser throughput, ${fmt(count)} × ~${Math.round(result.payloadBytes / count)} B server stream from the replay server (msgs/s, median)`;
  const rate = (p: StreamPath) => result.paths.find((r) => r.path === p)?.median ?? Number.NaN;
  const raw = rate("raw-ws");
  const connect = rate("connect-web");
  const rows: Row[] = [];
  for (const { path, label } of STREAM_PATHS) {
    const value = rate(path);
    const target = TARGETS[path];
    const parts: string[] = [];
    let status: Row["status"] = "";
    if (target !== undefined) {
      parts.push(`≥${target.raw}x raw`);
      status = check(value / raw, ">=", target.raw);
      if (target.connect !== undefined) {
        parts.push(`≥${target.connect}x connect-web (now ${(value / connect).toFixed(2)}x)`);
        if (check(value / connect, ">=", target.connect) === "MISSED") status = "MISSED";
      }
    }
    rows.push({ section, name: label, value: fmt(value), ratio: path === "raw-ws" ? "1.00x raw" : ratio(value, raw, "raw"), target: parts.join(", "), status });
  }
  return rows;
}
