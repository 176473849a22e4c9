// Load (issue 20 item 6): many concurrent subscribers over the WebSocket
// tunnel on loopback for a bounded time. Checked: every subscriber receives
// every tick exactly once, memory is flat after warm-up, and readings arrive
// promptly (p99 delivery latency under one tick). Prints RSS over time and
// the latency percentiles.
//
// Short form in `npm test`; the long form is `npm run load`
// (LOAD_SUBSCRIBERS=5000 LOAD_SECONDS=60, with --expose-gc so memory is measured after full collections).
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Frame } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { type WeatherServer } from "../../src/server/index.js";
import { CITIES } from "../../src/simulation/index.js";
import { connectRawTunnel, dataFrame, type RawTunnel, type Received, tunnelUrl, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";

const SUBSCRIBERS = Number(process.env["LOAD_SUBSCRIBERS"] ?? 200);
const SECONDS = Number(process.env["LOAD_SECONDS"] ?? 4);
const STREAMS_PER_CONNECTION = 100;
const CITY_CODES = [...CITIES.keys()];
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * What the process holds: with --expose-gc, the JS heap and external memory
 * after a full collection (RSS keeps pages the allocator has not returned,
 * which says nothing about retention); otherwise RSS.
 */
function retained(): number {
  if (gc === undefined) return process.memoryUsage.rss();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
const TICK_MS = 1000;
/** Memory ({@link retained}) may grow by this much between the end of warm-up and the end of the run ("flat"). */
const FLAT_BOUND_BYTES = 16 * 2 ** 20;

let server: WeatherServer & { url: string };
const tunnels: RawTunnel[] = [];
beforeAll(async () => {
  server = await startServer({ tickMs: TICK_MS });
});
afterAll(async () => {
  for (const t of tunnels) t.close();
  await server.close();
});

it(
  `${SUBSCRIBERS} subscribers for ${SECONDS} s: every tick exactly once, memory flat, p99 delivery under one tick`,
  async () => {
    // Bookkeeping of a fixed size, so that the process's memory over the run is the server's: per subscriber the
    // newest timestamp and a count; delivery latencies in a histogram of 1 ms buckets.
    const latency = new LatencyHistogram();
    const newest: (bigint | undefined)[] = Array.from({ length: SUBSCRIBERS }, () => undefined);
    const counts = new Uint32Array(SUBSCRIBERS);
    let duplicates = 0;
    let gaps = 0;
    const record = (subscriber: number, timestamp: bigint, nowMs: number): void => {
      const last = newest[subscriber];
      counts[subscriber] = (counts[subscriber] ?? 0) + 1;
      // The first reading is the latest one at subscribe time, as old as it happens to be: not a delivery.
      if (last === undefined) {
        newest[subscriber] = timestamp;
        return;
      }
      latency.add(nowMs - Number(timestamp));
      if (timestamp <= last) {
        duplicates++;
        return;
      }
      gaps += Number((timestamp - last) / BigInt(TICK_MS)) - 1;
      newest[subscriber] = timestamp;
    };
    const connections = Math.ceil(SUBSCRIBERS / STREAMS_PER_CONNECTION);
    for (let c = 0; c < connections; c++) {
      const t = await connectRawTunnel(tunnelUrl(server.url));
      tunnels.push(t);
      const frames: Frame[] = [];
      for (let s = 0; s < STREAMS_PER_CONNECTION && c * STREAMS_PER_CONNECTION + s < SUBSCRIBERS; s++) {
        const id = s + 1;
        const city = CITY_CODES[(c * STREAMS_PER_CONNECTION + s) % CITY_CODES.length] ?? "NYC";
        frames.push({ kind: "open", streamId: id, path: WEATHER.subscribeWeather, headers: [], initialWindow: 0 });
        frames.push(dataFrame(id, GetWeatherRequestSchema, { cityCode: city }), { kind: "halfClose", streamId: id });
      }
      t.send(frames);
    }
    const startMs = Date.now();
    const rssSeries: { s: number; mib: number; heapMiB?: number; externalMiB?: number }[] = [];
    let pings = 0;
    const sampler = setInterval(() => {
      // With --expose-gc (NODE_OPTIONS), the heap after a full collection: what is really retained.
      gc?.();
      rssSeries.push({
        s: Math.round((Date.now() - startMs) / 1000),
        mib: Math.round(process.memoryUsage.rss() / 2 ** 20),
        ...(gc === undefined
          ? {}
          : {
              heapMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
              externalMiB: Math.round(process.memoryUsage().external / 2 ** 20),
            }),
      });
      for (const t of tunnels) t.send([{ kind: "ping", streamId: 0, payload: ++pings }]);
    }, 1000);
    // Read what arrived, frame by frame, as it arrives.
    const seen = tunnels.map(() => 0);
    const drain = (): void => {
      const now = Date.now();
      tunnels.forEach((t, c) => {
        let i = seen[c] ?? 0;
        for (; i < t.frames.length; i++) {
          const f = t.frames[i];
          if (f?.kind !== "data") continue;
          for (const m of f.messages) {
            record(c * STREAMS_PER_CONNECTION + f.streamId - 1, fromBinary(WeatherResponseSchema, m).timestamp, now);
          }
        }
        // Let go of what was counted: the client's log would otherwise grow with the run and hide the server's memory.
        (t.frames as Received[]).length = 0;
        seen[c] = 0;
      });
    };
    const reader = setInterval(drain, 20);
    const warmupEnd = startMs + Math.min(2000, (SECONDS * 1000) / 2);
    let rssAfterWarmup = 0;
    await new Promise<void>((resolve) => {
      const end = setInterval(() => {
        if (rssAfterWarmup === 0 && Date.now() >= warmupEnd) rssAfterWarmup = retained();
        if (Date.now() - startMs < SECONDS * 1000) return;
        clearInterval(end);
        resolve();
      }, 50);
    });
    clearInterval(sampler);
    clearInterval(reader);
    drain();
    const rssAtEnd = retained();
    console.log(
      JSON.stringify({
        subscribers: SUBSCRIBERS,
        seconds: SECONDS,
        readings: latency.count,
        lost: gaps,
        duplicated: duplicates,
        p50Ms: latency.quantile(0.5),
        p99Ms: latency.quantile(0.99),
        rssMiB: rssSeries,
        retainedBy: gc === undefined ? "rss" : "heap+external after gc",
        growthAfterWarmupMiB: Math.round((rssAtEnd - rssAfterWarmup) / 2 ** 20),
      }),
    );
    expect(counts.every((n) => n >= SECONDS - 1)).toBe(true);
    expect(duplicates).toBe(0);
    expect(gaps).toBe(0);
    expect(latency.quantile(0.99)).toBeLessThan(TICK_MS);
    expect(rssAtEnd - rssAfterWarmup).toBeLessThan(FLAT_BOUND_BYTES);
  },
  (SECONDS + 60) * 1000,
);

/** Delivery latencies in 1 ms buckets up to a minute (one more bucket for anything later): a fixed size however long the run. */
class LatencyHistogram {
  private readonly buckets = new Uint32Array(60_001);
  count = 0;

  add(ms: number): void {
    const i = Math.min(this.buckets.length - 1, Math.max(0, Math.round(ms)));
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    this.count++;
  }

  /** The smallest latency, in ms, that at least `q` of the samples do not exceed (0 with no samples). */
  quantile(q: number): number {
    const wanted = Math.ceil(q * this.count);
    let seen = 0;
    for (let ms = 0; ms < this.buckets.length; ms++) {
      seen += this.buckets[ms] ?? 0;
      if (seen >= wanted && seen > 0) return ms;
    }
    return 0;
  }
}
