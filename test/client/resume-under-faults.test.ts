import { afterEach, describe, expect, it } from "vitest";
import { createWeatherClient, type SubscriptionState, type TransportKind } from "../../src/index.js";
import { createWeatherServer, type WeatherServer } from "../../src/server/index.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

const TICK_MS = 25;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startServerAt(): Promise<WeatherServer> {
  const server = createWeatherServer({ tickMs: TICK_MS, shutdownGraceMs: 200, onError: () => undefined });
  await server.listen(0);
  return server;
}

/** Subscribes through `proxy` and records every reading and state; `waitFor(n)` resolves once n readings arrived. */
function watch(proxy: TcpProxy, transports: TransportKind[]) {
  const weather = createWeatherClient({
    baseUrl: proxy.url,
    transports,
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
    webSocketOptions: { pingIntervalMs: 0 },
  });
  const abort = new AbortController();
  const sub = weather.subscribeWeather({ cityCode: "NYC" }, { signal: abort.signal });
  const readings: bigint[] = [];
  const states: SubscriptionState[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  sub.onMessage((r) => {
    readings.push(r.timestamp);
    for (const w of waiters.filter((w) => readings.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  sub.onState((s) => states.push(s));
  cleanups.push(() => {
    abort.abort();
    weather.close();
  });
  const waitFor = (count: number) =>
    new Promise<void>((resolve) => (readings.length >= count ? resolve() : waiters.push({ count, resolve })));
  return { readings, states, waitFor, sub };
}

/** Every tick exactly once, in order: consecutive timestamps one tick apart. */
function expectEveryTickOnce(readings: readonly bigint[]): void {
  const gaps = readings
    .slice(1)
    .map((t, i) => t - (readings[i] ?? 0n))
    .filter((d) => d !== BigInt(TICK_MS));
  expect(gaps, `readings ${readings.join(",")}`).toEqual([]);
}

describe("resume across faults: no reading lost, none twice", () => {
  it("survives 10 server restarts (graceful and abrupt) during one subscription", async () => {
    let server = await startServerAt();
    const proxy = await startTcpProxy(Number(new URL(server.url).port));
    cleanups.push(() => proxy.close());
    cleanups.push(() => server.close());
    const { readings, states, waitFor } = watch(proxy, ["websocket", "connect", "sse"]);
    for (let restart = 0; restart < 10; restart++) {
      await waitFor(readings.length + 3);
      proxy.refuse = true; // the server is down for everyone
      if (restart % 2 === 0) {
        await server.close(); // graceful: streams end with Unavailable
      } else {
        proxy.dropAll(); // abrupt: connections vanish mid-stream
        await server.close();
      }
      proxy.dropAll();
      server = await startServerAt();
      proxy.retarget(Number(new URL(server.url).port));
      proxy.refuse = false;
    }
    await waitFor(readings.length + 3);
    expectEveryTickOnce(readings);
    const opens = states.flatMap((s) => (s.kind === "open" ? [s] : []));
    expect(opens.length).toBeGreaterThanOrEqual(11);
    expect(opens.every((s) => s.recovered)).toBe(true);
    expect(states.some((s) => s.kind === "reconnecting")).toBe(true);
  });

  it.each<TransportKind>(["websocket", "connect", "grpc-web", "sse"])(
    "over %s, when the network drops connections repeatedly",
    async (transport) => {
      const server = await startServerAt();
      const proxy = await startTcpProxy(Number(new URL(server.url).port));
      cleanups.push(() => proxy.close());
      cleanups.push(() => server.close());
      const { readings, states, waitFor } = watch(proxy, [transport]);
      let cuts = 0;
      for (let drop = 0; drop < 6; drop++) {
        await waitFor(readings.length + 1 + (drop % 3));
        // A reading may come from a buffer of the connection just cut; only count drops that cut something.
        if (proxy.dropAll() > 0) cuts++;
      }
      await waitFor(readings.length + 3);
      expectEveryTickOnce(readings);
      const opens = states.flatMap((s) => (s.kind === "open" ? [s] : []));
      expect(opens.every((s) => s.transport === transport && s.recovered)).toBe(true);
      expect(cuts).toBeGreaterThanOrEqual(3);
      expect(states.filter((s) => s.kind === "reconnecting").length).toBeGreaterThanOrEqual(cuts);
    },
  );
});
