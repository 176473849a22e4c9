import type { ServerChild } from "../children.js";
import type { HotFunction } from "../profile.js";
import { check, type Row } from "../report.js";
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
  /** Each run against the raw baseline run right next to it (same round, order alternating). */
  readonly ratios: number[];
  readonly medianRatio: number;
  /** Server → client bytes of the first measured run, and client → server. */
  readonly downBytes: number;
  readonly upBytes: number;
}

export interface ThroughputResult {
  readonly paths: PathRuns[];
  readonly payloadBytes: number;
  readonly profiles: Record<string, HotFunction[]>;
}

interface Measured {
  readonly rate: number;
  readonly down: number;
  readonly up: number;
}

/**
 * Row 1: every client path against the replay server, after one warm-up round,
 * `runs` rounds. In each round every path runs next to its own raw baseline
 * run (baseline first in even rounds, second in odd ones) so load from other
 * processes on a shared machine hits both sides of each ratio alike; paths
 * rotate between rounds. Reported: the median rate and the median ratio.
 */
export async function measureThroughput(ctx: BrowserContext, replay: ServerChild): Promise<ThroughputResult> {
  const baseUrl = String(replay.info["url"]);
  await ctx.page.open(`${baseUrl}/bench`, ctx.script);
  const measure = async (path: StreamPath): Promise<Measured> => {
    await collectGarbage(ctx.page);
    const before = await replay.bytes();
    const result = await runStream(ctx.page, { path, baseUrl, count: ctx.count });
    const after = await replay.bytes();
    if (result.count !== ctx.count) throw new Error(`${path}: got ${result.count} of ${ctx.count} messages`);
    return { rate: (result.count / result.ms) * 1000, down: after.down - before.down, up: after.up - before.up };
  };
  const runs = new Map<StreamPath, { rates: number[]; ratios: number[]; down: number; up: number }>(
    STREAM_PATHS.map(({ path }) => [path, { rates: [], ratios: [], down: 0, up: 0 }]),
  );
  const record = (path: StreamPath, m: Measured, ratio: number, first: boolean) => {
    const r = runs.get(path);
    if (r === undefined) return;
    r.rates.push(m.rate);
    r.ratios.push(ratio);
    if (first) {
      r.down = m.down;
      r.up = m.up;
    }
  };
  const others = STREAM_PATHS.filter((p) => p.path !== "raw-ws");
  for (let round = -1; round < ctx.runs; round++) {
    for (let i = 0; i < others.length; i++) {
      const entry = others[(i + Math.max(0, round)) % others.length];
      if (entry === undefined) continue;
      const rawFirst = round % 2 === 0;
      const a = await measure(rawFirst ? "raw-ws" : entry.path);
      const b = await measure(rawFirst ? entry.path : "raw-ws");
      if (round < 0) continue; // warm-up
      const [raw, path] = rawFirst ? [a, b] : [b, a];
      record(entry.path, path, path.rate / raw.rate, round === 0);
      record("raw-ws", raw, 1, round === 0 && i === 0);
    }
    ctx.log(`  throughput round ${round < 0 ? "warm-up" : round + 1} done`);
  }
  const paths: PathRuns[] = [...runs.entries()].map(([path, r]) => ({
    path,
    rates: r.rates,
    median: median(r.rates),
    ratios: r.ratios,
    medianRatio: median(r.ratios),
    downBytes: r.down,
    upBytes: r.up,
  }));
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
  const section = `1. Browser throughput, ${fmt(count)} × ~${Math.round(result.payloadBytes / count)} B server stream from the replay server (msgs/s median; median and range of per-pair ratios)`;
  const find = (p: StreamPath) => result.paths.find((r) => r.path === p);
  const connect = find("connect-web")?.medianRatio ?? Number.NaN;
  const rows: Row[] = [];
  for (const { path, label } of STREAM_PATHS) {
    const runs = find(path);
    const vsRaw = runs?.medianRatio ?? Number.NaN;
    const target = TARGETS[path];
    const parts: string[] = [];
    let status: Row["status"] = "";
    if (target !== undefined) {
      parts.push(`≥${target.raw}x raw`);
      status = check(vsRaw, ">=", target.raw);
      if (target.connect !== undefined) {
        parts.push(`≥${target.connect}x connect-web (now ${(vsRaw / connect).toFixed(2)}x)`);
        if (check(vsRaw / connect, ">=", target.connect) === "MISSED") status = "MISSED";
      }
    }
    const spread =
      runs === undefined || path === "raw-ws" ? "" : ` (${Math.min(...runs.ratios).toFixed(2)}–${Math.max(...runs.ratios).toFixed(2)})`;
    rows.push({
      section,
      name: label,
      value: fmt(runs?.median ?? Number.NaN),
      ratio: `${vsRaw.toFixed(2)}x raw${spread}`,
      target: parts.join(", "),
      status,
    });
  }
  return rows;
}
