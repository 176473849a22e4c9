// The SDK's fallback, reconnect, resume and error behaviour against the mocks,
// with the mock clock: no test here waits for real time. Run in Chromium
// (msw's setupWorker) and in Node (setupServer) by the files that call it.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createWeatherClient, type TransportKind, type WeatherClient } from "../../src/index.js";
import { createMockClock, createWeatherMocks, type MockHandlers, type WeatherMocks } from "../../src/testing/index.js";
import { irregularSteps, watch } from "./watch.js";

const TRANSPORTS: readonly TransportKind[] = ["websocket", "connect", "grpc-web", "sse"];

let nextHost = 0;

/** Fresh mocks on a fresh host and clock, installed with `use`; the test closes what it opened through `cleanup`. */
function setUp(use: (handlers: MockHandlers) => void, interceptors: Interceptor[] = []) {
  const baseUrl = `http://mocked-${++nextHost}.test`;
  const clock = createMockClock();
  const mocks = createWeatherMocks({ baseUrl, clock, interceptors });
  use(mocks.handlers);
  const clients: WeatherClient[] = [];
  const client = (transports: readonly TransportKind[], extra: Partial<Parameters<typeof createWeatherClient>[0]> = {}) => {
    const c = createWeatherClient({ baseUrl, transports, clock, random: () => 0.5, ...extra });
    clients.push(c);
    return c;
  };
  const cleanup = async () => {
    for (const c of clients) c.close();
    await mocks.close();
  };
  return { baseUrl, clock, mocks, client, cleanup };
}

/** Drops the connection and brings the subscription back, advancing the clock through the backoff. */
async function dropAndResume(mocks: WeatherMocks, w: ReturnType<typeof watch>, clock: ReturnType<typeof createMockClock>) {
  const before = w.readings.length;
  mocks.dropConnections();
  const reconnecting = await w.state("reconnecting");
  mocks.tick(2); // readings the client misses while it is away
  clock.advance(reconnecting.delayMs);
  const open = await w.state("open");
  await w.untilReadings(before + 2);
  return open;
}

export function mockedScenarios(runtime: string, use: (handlers: MockHandlers) => void): void {
  describe(`the SDK against weather-sdk/testing (${runtime})`, () => {
    describe.each(TRANSPORTS)("subscribeWeather over %s", (transport) => {
      it("reconnects after a drop and resumes with no reading lost or doubled", async () => {
        const { mocks, clock, client, cleanup } = setUp(use);
        const sub = client([transport]).subscribeWeather({ cityCode: "NYC" });
        const w = watch(sub);
        expect(await w.state("open", true)).toMatchObject({ transport });
        await w.untilReadings(1);
        mocks.tick();
        await w.untilReadings(2);
        expect(await dropAndResume(mocks, w, clock)).toMatchObject({ transport, recovered: true });
        mocks.tick();
        await w.untilReadings(5);
        expect(w.readings).toHaveLength(5);
        expect(irregularSteps(w.readings, mocks.tickMs)).toEqual([]);
        await cleanup();
      });

      it("resumes after a stream cut with a retryable code", async () => {
        const { mocks, clock, client, cleanup } = setUp(use);
        mocks.cutStream(2, Code.Unavailable, { transport });
        const w = watch(client([transport]).subscribeWeather({ cityCode: "LON" }));
        await w.untilReadings(1);
        mocks.tick();
        const reconnecting = await w.state("reconnecting");
        expect(reconnecting.error.code).toBe(Code.Unavailable);
        mocks.tick();
        clock.advance(reconnecting.delayMs);
        expect(await w.state("open")).toMatchObject({ recovered: true });
        await w.untilReadings(3);
        expect(irregularSteps(w.readings, mocks.tickMs)).toEqual([]);
        await cleanup();
      });

      it("closes the subscription on Unauthenticated, with the code and message", async () => {
        const { mocks, client, cleanup } = setUp(use);
        mocks.fail(Code.Unauthenticated, { method: "subscribeWeather", message: "token expired" });
        const w = watch(client([transport]).subscribeWeather({ cityCode: "SYD" }));
        const closed = await w.state("closed");
        expect(closed.reason).toBe("error");
        expect(closed.error).toBeInstanceOf(ConnectError);
        expect(closed.error).toMatchObject({ code: Code.Unauthenticated, rawMessage: "token expired" });
        expect(w.readings).toEqual([]);
        await cleanup();
      });
    });

    it.each(TRANSPORTS)("push delivers a reading of the test's own over %s, and a resume replays it", async (transport) => {
      const { mocks, clock, client, cleanup } = setUp(use);
      const w = watch(client([transport]).subscribeWeather({ cityCode: "CAI" }));
      await w.untilReadings(1);
      clock.advance(100);
      const pushed = await mocks.push("CAI", { temperature: 41.5, description: "pushed by the test" });
      await w.untilReadings(2);
      expect(w.readings[1]).toBe(pushed.timestamp);
      await expect(mocks.push("CAI", { timestamp: pushed.timestamp })).rejects.toMatchObject({ code: Code.FailedPrecondition });
      mocks.tick();
      await w.untilReadings(3);
      expect(w.readings[2]).toBe(BigInt(Math.floor(clock.now() / mocks.tickMs) * mocks.tickMs));
      await cleanup();
    });

    it("slowStream paces each message on the mock clock", async () => {
      const { mocks, clock, client, cleanup } = setUp(use);
      mocks.slowStream(200, { method: "subscribeWeather" });
      const w = watch(client(["websocket"]).subscribeWeather({ cityCode: "IST" }));
      const start = clock.now();
      // Time moves 50 ms at a time, each step given to the event loop: the first reading waits out the pace.
      for (let step = 0; step < 20 && w.readings.length === 0; step++) {
        clock.advance(50);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await w.untilReadings(1);
      expect(clock.now() - start).toBeGreaterThanOrEqual(200);
      await cleanup();
    });

    it("falls back to Connect when the WebSocket upgrade is refused", async () => {
      const { mocks, client, cleanup } = setUp(use);
      mocks.refuseWebSocket();
      const weather = client(["websocket", "connect"]);
      const w = watch(weather.subscribeWeather({ cityCode: "TYO" }));
      expect(await w.state("open", true)).toMatchObject({ transport: "connect" });
      await w.untilReadings(1);
      expect(weather.transport).toBe("connect");
      expect((await weather.getWeather({ cityCode: "TYO" })).timestamp).toBe(w.readings[0]);
      await cleanup();
    });

    it("fails a unary call on the transport and method a fault names, and only there", async () => {
      const { mocks, client, cleanup } = setUp(use);
      mocks.fail(Code.PermissionDenied, { transport: "connect", method: "GetWeather", times: 2 });
      const overConnect = client(["connect"]);
      const overSse = client(["sse"]);
      await expect(overSse.getWeather({ cityCode: "NYC" })).resolves.toBeDefined();
      await expect(overConnect.getWeather({ cityCode: "NYC" })).rejects.toMatchObject({ code: Code.PermissionDenied });
      await expect(overConnect.getWeather({ cityCode: "NYC" })).rejects.toMatchObject({ code: Code.PermissionDenied });
      await expect(overConnect.getWeather({ cityCode: "NYC" })).resolves.toBeDefined();
      mocks.fail(Code.Internal, { times: Infinity });
      mocks.reset();
      await expect(overConnect.getWeather({ cityCode: "NYC" })).resolves.toBeDefined();
      await cleanup();
    });

    it("holds a call for an injected delay on the mock clock", async () => {
      const { mocks, clock, client, cleanup } = setUp(use);
      mocks.delay(5000, { method: "getWeather" });
      let settled = false;
      const call = client(["websocket"])
        .getWeather({ cityCode: "CAI" })
        .finally(() => (settled = true));
      // The call reaches the mock, which holds it on the clock; advancing the clock lets it through.
      await until(() => clock.pendingTimers > 0 && mocks.openConnections("websocket") === 1);
      expect(settled).toBe(false);
      clock.advance(5000);
      // The reading is taken once the call is let through: the newest at the clock's time then.
      expect((await call).timestamp).toBe(BigInt(Math.floor(clock.now() / mocks.tickMs) * mocks.tickMs));
      await cleanup();
    });

    it("a tunnel that stops answering pings is found dead, and the subscription resumes", async () => {
      const { mocks, clock, client, cleanup } = setUp(use);
      const weather = client(["websocket"], { webSocketOptions: { pingIntervalMs: 1500, pingTimeoutMs: 300 } });
      const w = watch(weather.subscribeWeather({ cityCode: "ROM" }));
      await w.untilReadings(1);
      mocks.ignorePings();
      mocks.tick();
      await w.untilReadings(2);
      clock.advance(1500 - mocks.tickMs); // the ping goes out, between two readings
      clock.advance(300); // and no pong comes back
      const reconnecting = await w.state("reconnecting", true); // the client's ping timer fired inside advance()
      expect(reconnecting.error.rawMessage).toMatch(/ping/);
      mocks.reset();
      clock.advance(reconnecting.delayMs);
      expect(await w.state("open")).toMatchObject({ recovered: true });
      mocks.tick();
      await w.untilReadings(4);
      expect(irregularSteps(w.readings, mocks.tickMs)).toEqual([]);
      await cleanup();
    });

    it("cancelling a Connect stream reaches the mock", async () => {
      const aborted: string[] = [];
      const recordAborts: Interceptor = (next) => (req) => {
        req.signal.addEventListener("abort", () => aborted.push(req.method.name), { once: true });
        return next(req);
      };
      const { mocks, client, cleanup } = setUp(use, [recordAborts]);
      const abort = new AbortController();
      const w = watch(client(["connect"]).subscribeWeather({ cityCode: "MAD" }, { signal: abort.signal }));
      await w.untilReadings(1);
      expect(mocks.openConnections("connect")).toBe(1);
      abort.abort();
      await until(() => aborted.includes("SubscribeWeather"));
      await until(() => mocks.openConnections("connect") === 0);
      await cleanup();
    });
  });
}

/** Resolves once `check` holds, polling on macrotasks (for state the SDK does not announce). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 1));
}
