import type { ServerChild } from "../children.js";
import { check, ratio, type Row } from "../report.js";
import type { UnaryPath, UnaryRunParams } from "../shared.js";
import { fmt, median, quantile } from "../stats.js";
import { type BrowserContext, profileRun } from "./context.js";

/** What is measured: a client path against the live reference server, or against the replay server's pre-encoded answer. */
export const UNARY_RUNS: readonly {
  readonly key: string;
  readonly path: UnaryPath;
  readonly server: "live" | "replay";
  readonly label: string;
}[] = [
  { key: "raw-ws-echo", path: "raw-ws-echo", server: "live", label: "raw WebSocket request/answer (baseline)" },
  { key: "tunnel-client", path: "tunnel-client", server: "live", label: "tunnel: createClient + createWebSocketTransport" },
  { key: "weather-client-ws", path: "weather-client-ws", server: "live", label: "tunnel: createWeatherClient.getWeather" },
  {
    key: "replay-tunnel-client",
    path: "tunnel-client",
    server: "replay",
    label: "  same, replay server's pre-encoded answer (client cost)",
  },
  { key: "connect-web", path: "connect-web", server: "live", label: "connect-web Connect" },
  { key: "grpc-web", path: "grpc-web", server: "live", label: "connect-web gRPC-Web" },
  { key: "sse-client", path: "sse-client", server: "live", label: "SSE transport (POST)" },
];

export interface UnaryResult {
  readonly key: string;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU of the live server's process per call (warm-up included), µs. */
  readonly serverCpuUsPerCall: number;
  /**
   * p50 of this path over p50 of the raw echo, both from runs that alternate
   * the two call by call (so drift on a shared machine hits both alike).
   */
  readonly pairedRatio: number;
}

/**
 * Row 2: sequential GetWeather round trips against the live server, each
 * path in blocks interleaved in `rounds` (p50/p99 and server CPU), then again
 * alternating call by call with the raw echo (the ratio to the baseline).
 */
export async function measureUnary(
  ctx: BrowserContext,
  live: ServerChild,
  replay: ServerChild,
  rounds: number,
  samplesPerRound: number,
): Promise<UnaryResult[]> {
  const baseUrl = String(live.info["url"]);
  const echoUrl = String(live.info["echoUrl"]);
  await ctx.page.open(`${baseUrl}/bench`, ctx.script);
  const times = new Map<string, number[]>(UNARY_RUNS.map(({ key }) => [key, []]));
  const cpu = new Map<string, number[]>(UNARY_RUNS.map(({ key }) => [key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const { key, path, server } of UNARY_RUNS) {
      // Only WebSocket paths go to the replay server: no CORS, so the page may stay on the live origin.
      const params: UnaryRunParams = {
        path,
        baseUrl: server === "live" ? baseUrl : String(replay.info["url"]),
        echoUrl,
        warmup: 100,
        samples: samplesPerRound,
      };
      const u0 = await live.usage();
      const t = await ctx.page.evaluate<number[]>(`weatherBench.unary(${JSON.stringify(params)})`);
      const u1 = await live.usage();
      times.get(key)?.push(...t);
      cpu.get(key)?.push((u1.userUs - u0.userUs + u1.systemUs - u0.systemUs) / (params.warmup + params.samples));
    }
    ctx.log(`  unary round ${round + 1} done`);
  }
  // The ratio to the baseline: each path alternating call by call with the raw echo.
  const paired = new Map<string, { path: number[]; raw: number[] }>();
  const rawParams: UnaryRunParams = { path: "raw-ws-echo", baseUrl, echoUrl, warmup: 100, samples: samplesPerRound };
  for (let round = 0; round < rounds; round++) {
    for (const { key, path, server } of UNARY_RUNS) {
      if (path === "raw-ws-echo") continue;
      const params: UnaryRunParams = {
        path,
        baseUrl: server === "live" ? baseUrl : String(replay.info["url"]),
        echoUrl,
        warmup: 100,
        samples: samplesPerRound,
      };
      const t = await ctx.page.evaluate<{ path: number[]; raw: number[] }>(
        `weatherBench.unaryPaired(${JSON.stringify(params)}, ${JSON.stringify(rawParams)})`,
      );
      const pooled = paired.get(key) ?? { path: [], raw: [] };
      pooled.path.push(...t.path);
      pooled.raw.push(...t.raw);
      paired.set(key, pooled);
    }
    ctx.log(`  unary paired round ${round + 1} done`);
  }
  for (const { key, path, server } of UNARY_RUNS) {
    if (!ctx.profile.has(`unary-${key}`)) continue;
    const params: UnaryRunParams = {
      path,
      baseUrl: server === "live" ? baseUrl : String(replay.info["url"]),
      echoUrl,
      warmup: 100,
      samples: 2000,
    };
    await profileRun(ctx, `unary-${key}`, () => ctx.page.evaluate(`weatherBench.unary(${JSON.stringify(params)})`));
  }
  return [...times.entries()].map(([key, t]) => ({
    key,
    samples: t.length,
    p50Ms: quantile(t, 0.5),
    p99Ms: quantile(t, 0.99),
    serverCpuUsPerCall: median(cpu.get(key) ?? []),
    pairedRatio: key === "raw-ws-echo" ? 1 : pairedP50Ratio(paired.get(key)),
  }));
}

function pairedP50Ratio(times: { path: number[]; raw: number[] } | undefined): number {
  if (times === undefined) return Number.NaN;
  return quantile(times.path, 0.5) / quantile(times.raw, 0.5);
}

export function unaryRows(results: readonly UnaryResult[]): Row[] {
  const section = "2. Unary GetWeather round trip in Chromium against the live server (p50 / p99)";
  const raw = results.find((r) => r.key === "raw-ws-echo")?.p50Ms ?? Number.NaN;
  return results.map((r) => {
    const label = UNARY_RUNS.find((u) => u.key === r.key)?.label ?? r.key;
    const tunnel = r.key === "tunnel-client" || r.key === "weather-client-ws";
    return {
      section,
      name: label,
      value: `${fmt(r.p50Ms, 3)} / ${fmt(r.p99Ms, 3)} ms`,
      ratio:
        r.key === "raw-ws-echo"
          ? `1.00x raw p50, server ${fmt(r.serverCpuUsPerCall)} µs CPU`
          : `${r.pairedRatio.toFixed(2)}x raw p50 paired (${ratio(r.p50Ms, raw, "in blocks")})${r.key.startsWith("replay-") ? "" : `, server ${fmt(r.serverCpuUsPerCall)} µs CPU`}`,
      target: tunnel ? "p50 ≤ 1.5x raw (paired)" : "",
      status: tunnel ? check(r.pairedRatio, "<=", 1.5) : "",
    };
  });
}
