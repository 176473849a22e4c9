import { toBinary } from "@bufbuild/protobuf";
import { WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { findCity, readingAt } from "../../src/simulation/index.js";
import type { ServerChild } from "../children.js";
import type { HotFunction } from "../profile.js";
import { check, ratio, type Row } from "../report.js";
import { CITY, type StreamPath } from "../shared.js";
import { fmt, median } from "../stats.js";
import { type BrowserContext, collectGarbage, profileStream, runStream } from "./context.js";

/**
 * The live reference server runs with this tick and a history long enough to
 * replay a whole stream at once: a resume cursor `count` ticks back makes it
 * send exactly `count` readings as fast as it can, then wait a second.
 */
export const LIVE_TICK_MS = 1000;

/** A cursor that makes the live server replay exactly `count` readings now; and the first tick it will send. */
function resumeFor(count: number): { resumeAfter: string; firstTick: number } {
  const nowTick = Math.floor(Date.now() / LIVE_TICK_MS);
  const firstTick = nowTick - count + 1;
  return { resumeAfter: String((firstTick - 1) * LIVE_TICK_MS), firstTick };
}

/** Bare protobuf bytes of the readings the live server sends from `firstTick` on. */
function bareBytes(firstTick: number, count: number): number {
  const city = findCity(CITY);
  if (city === undefined) throw new Error(CITY);
  let total = 0;
  for (let t = firstTick; t < firstTick + count; t++) total += toBinary(WeatherResponseSchema, readingAt(city, t, LIVE_TICK_MS)).length;
  return total;
}

export const E2E_PATHS: readonly { readonly path: StreamPath; readonly label: string }[] = [
  { path: "sub-onmessage", label: "tunnel: subscription onMessage" },
  { path: "tunnel-client", label: "tunnel: createClient, for await" },
  { path: "connect-web", label: "connect-web Connect → connect-node over HTTP/1.1" },
  { path: "sse-client", label: "SSE: createClient + createSseTransport" },
];

export interface E2eResult {
  readonly paths: { path: StreamPath; rates: number[]; median: number; cpuUsPerMessage: number[]; medianCpuUsPerMessage: number }[];
  readonly profiles: Record<string, HotFunction[]>;
}

/** Row 1, end to end: the same page against the live reference server, with the server's CPU per message. */
export async function measureEndToEnd(ctx: BrowserContext, live: ServerChild, runs: number): Promise<E2eResult> {
  const baseUrl = String(live.info["url"]);
  await ctx.page.open(`${baseUrl}/bench`, ctx.script);
  const data = new Map(E2E_PATHS.map(({ path }) => [path, { path, rates: [] as number[], cpu: [] as number[] }]));
  for (let round = -1; round < runs; round++) {
    for (const { path } of E2E_PATHS) {
      await collectGarbage(ctx.page);
      const { resumeAfter } = resumeFor(ctx.count);
      const u0 = await live.usage();
      const result = await runStream(ctx.page, { path, baseUrl, count: ctx.count, resumeAfter });
      const u1 = await live.usage();
      if (round < 0) continue;
      const d = data.get(path);
      d?.rates.push((result.count / result.ms) * 1000);
      d?.cpu.push((u1.userUs - u0.userUs + u1.systemUs - u0.systemUs) / result.count);
    }
    ctx.log(`  end-to-end round ${round < 0 ? "warm-up" : round + 1} done`);
  }
  const profiles: Record<string, HotFunction[]> = {};
  for (const { path } of E2E_PATHS) {
    if (ctx.profile.has(`live-${path}`))
      profiles[`live-${path}`] = await profileStream(ctx, `live-${path}`, { path, baseUrl, count: ctx.count, ...resumeFor(ctx.count) });
  }
  return {
    paths: [...data.values()].map((d) => ({
      path: d.path,
      rates: d.rates,
      median: median(d.rates),
      cpuUsPerMessage: d.cpu,
      medianCpuUsPerMessage: median(d.cpu),
    })),
    profiles,
  };
}

export function endToEndRows(result: E2eResult, rawReplay: number, count: number): Row[] {
  const section = `1b. End to end against the live reference server, ${fmt(count)} readings replayed from history (msgs/s, median; server CPU per message)`;
  const connectCpu = result.paths.find((p) => p.path === "connect-web")?.medianCpuUsPerMessage ?? Number.NaN;
  return result.paths.flatMap((p) => {
    const label = E2E_PATHS.find((e) => e.path === p.path)?.label ?? p.path;
    const rows: Row[] = [
      { section, name: label, value: fmt(p.median), ratio: ratio(p.median, rawReplay, "raw replay"), target: "", status: "" },
    ];
    const tunnel = p.path === "sub-onmessage" || p.path === "tunnel-client";
    rows.push({
      section,
      name: `  server CPU per message`,
      value: `${fmt(p.medianCpuUsPerMessage, 1)} µs`,
      ratio: ratio(p.medianCpuUsPerMessage, connectCpu, "connect-node HTTP"),
      target: tunnel ? "≤ connect-node over HTTP" : "",
      status: tunnel ? check(p.medianCpuUsPerMessage, "<=", connectCpu) : "",
    });
    return rows;
  });
}

export const WIRE_PATHS: readonly { readonly path: StreamPath; readonly label: string }[] = [
  { path: "sub-onmessage", label: "WebSocket tunnel" },
  { path: "connect-web", label: "Connect (HTTP/1.1)" },
  { path: "grpc-web", label: "gRPC-Web (HTTP/1.1)" },
  { path: "sse-client", label: "SSE" },
];

export interface LiveWire {
  readonly path: StreamPath;
  readonly count: number;
  readonly bareBytes: number;
  readonly downBytes: number;
  readonly upBytes: number;
}

/** Row 3 against the live server: every byte through a counting TCP proxy in front of it. */
export async function measureLiveWire(ctx: BrowserContext, live: ServerChild, count: number): Promise<LiveWire[]> {
  const proxyUrl = String(live.info["proxyUrl"]);
  await ctx.page.open(`${proxyUrl}/bench`, ctx.script);
  const out: LiveWire[] = [];
  for (const { path } of WIRE_PATHS) {
    const { resumeAfter, firstTick } = resumeFor(count);
    const before = await live.bytes();
    const result = await runStream(ctx.page, { path, baseUrl: proxyUrl, count, resumeAfter });
    await new Promise((resolve) => setTimeout(resolve, 200)); // let closing frames through
    const after = await live.bytes();
    out.push({
      path,
      count: result.count,
      bareBytes: bareBytes(firstTick, result.count),
      downBytes: after.down - before.down,
      upBytes: after.up - before.up,
    });
  }
  return out;
}
