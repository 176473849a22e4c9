// Shared parts of the security tests: a healthy subscriber on its own
// connection whose reading gaps are measured, and an RSS peak sampler.
import { type Frame } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema } from "../../src/gen/weather_pb.js";
import { connectRawTunnel, dataFrame, type RawTunnel, tunnelUrl, WEATHER } from "../helpers/raw-tunnel.js";

/** Tick of the servers under attack (the default): a healthy subscriber gets one reading per city per tick. */
export const TICK_MS = 1000;

/** "Not delayed by more than one tick": two consecutive readings of the healthy subscriber arrive at most two ticks apart. */
export const MAX_HEALTHY_GAP_MS = 2 * TICK_MS;

/**
 * The documented bound (SECURITY.md) on how much an attack may raise the
 * server's RSS in these tests: the attacks measured before the limits took
 * +430 MB to +1.2 GB.
 */
export const RSS_BOUND_BYTES = 96 * 1024 * 1024;

/** A subscriber to one city over its own tunnel connection, timing each reading. */
export interface HealthyWatch {
  /** Readings received so far. */
  readonly count: number;
  /** Resolves once `n` readings in all have arrived. */
  readings(n: number): Promise<void>;
  /** The largest gap between consecutive readings since `from` (a reading index). */
  maxGapMs(from?: number): number;
  close(): void;
}

/** Subscribes to one city's readings from the server at `baseUrl` over a fresh tunnel. */
export async function watchHealthy(baseUrl: string): Promise<HealthyWatch> {
  const t: RawTunnel = await connectRawTunnel(tunnelUrl(baseUrl));
  const times: number[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const subscribe: Frame[] = [
    { kind: "open", streamId: 1, path: WEATHER.subscribeWeather, headers: [], initialWindow: 0 },
    dataFrame(1, GetWeatherRequestSchema, { cityCode: "NYC" }),
    { kind: "halfClose", streamId: 1 },
  ];
  t.send(subscribe);
  // The server closes a connection that sends nothing for 30 s (keepalive).
  let pings = 0;
  const keepalive = setInterval(() => t.send([{ kind: "ping", streamId: 0, payload: ++pings }]), 5000);
  // Keep the connection alive and count each data frame's messages as they come.
  let counted = 0;
  const poll = (): void => {
    const data = t.dataOf(1);
    for (; counted < data.length; counted++) {
      const frame = data[counted];
      for (let i = 0; i < (frame?.messages.length ?? 0); i++) times.push(performance.now());
    }
    for (const w of [...waiters]) {
      if (times.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const next = (): void => {
    void t
      .waitFor("reading", (f) => f.kind === "data" && f.streamId === 1, t.frames.length)
      .then(
        () => {
          poll();
          next();
        },
        () => undefined,
      );
  };
  next();
  return {
    get count() {
      return times.length;
    },
    readings(n) {
      poll();
      if (times.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    maxGapMs(from = 0) {
      let max = 0;
      for (let i = Math.max(from, 1); i < times.length; i++) max = Math.max(max, (times[i] ?? 0) - (times[i - 1] ?? 0));
      return max;
    },
    close() {
      clearInterval(keepalive);
      t.close();
    },
  };
}

/** Samples this process's RSS every 5 ms from now; `stop()` returns the peak rise over the start. */
export function sampleRss(): { stop: () => number } {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return peak - base;
    },
  };
}
