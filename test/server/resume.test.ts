// SubscribeWeather resume (`weather-resume-after`) against the real server,
// on a fake clock so "now" and the history window are exact.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../src/codec/resume.js";
import type { WeatherResponse } from "../../src/gen/weather_pb.js";
import { readingAt, tickAt } from "../../src/simulation/index.js";
import { expectStrictlyIncreasing } from "../helpers/assertions.js";
import { city, Code, PROTOCOL_NAMES, streamCodeOf, type WeatherClient, weatherClient } from "../helpers/connect-node.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { startServer } from "../helpers/server.js";

const TICK_MS = 50;
const HISTORY_WINDOW_MS = 1000; // 20 ticks
const HISTORY_TICKS = HISTORY_WINDOW_MS / TICK_MS;
const TYO = city("TYO");

const clock = createFakeClock(1_795_000_000_000);
let server: Awaited<ReturnType<typeof startServer>>;
const closers: (() => void)[] = [];

beforeAll(async () => {
  server = await startServer({ tickMs: TICK_MS, historyWindowMs: HISTORY_WINDOW_MS, clock });
});

afterEach(async () => {
  // A cancelled stream must stop waiting for ticks on the server: no timer left behind.
  await vi.waitFor(() => expect(clock.pendingTimers).toBe(0), { interval: 5 });
});

afterAll(async () => {
  for (const close of closers) close();
  await server.close();
});

interface Resumed {
  readonly status: string | null;
  readonly readings: WeatherResponse[];
}

/**
 * Subscribes with `cursor` and reads `n` readings; when `advanceAfter` of
 * them arrived (the replay), moves the fake clock one tick to get the next.
 */
async function resume(client: WeatherClient, cursor: string, n: number, advanceAfter: number): Promise<Resumed> {
  const abort = new AbortController();
  let status: string | null = null;
  const readings: WeatherResponse[] = [];
  const stream = client.subscribeWeather(
    { cityCode: "TYO" },
    {
      signal: abort.signal,
      headers: { [RESUME_AFTER_HEADER]: cursor },
      onHeader: (h) => (status = h.get(RESUME_STATUS_HEADER)),
    },
  );
  try {
    if (advanceAfter === 0) clock.advance(TICK_MS);
    for await (const r of stream) {
      readings.push(r);
      if (readings.length === advanceAfter) clock.advance(TICK_MS);
      if (readings.length === n) break;
    }
  } finally {
    abort.abort();
  }
  return { status, readings };
}

function ticksOf(readings: readonly WeatherResponse[]): number[] {
  return readings.map((r) => Number(r.timestamp) / TICK_MS);
}

function expectTyoReadings(readings: readonly WeatherResponse[]): void {
  for (const r of readings) expect(r).toEqual(readingAt(TYO, Number(r.timestamp) / TICK_MS, TICK_MS));
  expectStrictlyIncreasing(readings.map((r) => r.timestamp));
}

describe.each(PROTOCOL_NAMES)("SubscribeWeather resume over connect-node %s", (protocol) => {
  let client: WeatherClient;
  beforeAll(() => {
    const c = weatherClient(protocol, server.url, "2");
    closers.push(c.close);
    client = c.client;
  });

  it("replays exactly the readings after the cursor, then continues, and says recovered", async () => {
    const now = tickAt(clock.now(), TICK_MS);
    const cursor = String((now - 5) * TICK_MS);
    const { status, readings } = await resume(client, cursor, 6, 5);
    expect(status).toBe("recovered");
    expect(ticksOf(readings)).toEqual([now - 4, now - 3, now - 2, now - 1, now, now + 1]);
    expectTyoReadings(readings);
  });

  it("treats a cursor between ticks as the tick it falls in", async () => {
    const now = tickAt(clock.now(), TICK_MS);
    const { status, readings } = await resume(client, String((now - 2) * TICK_MS + 7), 2, 2);
    expect(status).toBe("recovered");
    expect(ticksOf(readings)).toEqual([now - 1, now]);
  });

  it("resuming from the current reading replays nothing and continues with the next tick", async () => {
    const now = tickAt(clock.now(), TICK_MS);
    const { status, readings } = await resume(client, String(now * TICK_MS), 1, 0);
    expect(status).toBe("recovered");
    expect(ticksOf(readings)).toEqual([now + 1]);
  });

  it("says gap and starts at the oldest reading when the cursor is older than the history window", async () => {
    const now = tickAt(clock.now(), TICK_MS);
    const cursor = String((now - HISTORY_TICKS - 30) * TICK_MS);
    const { status, readings } = await resume(client, cursor, HISTORY_TICKS + 2, HISTORY_TICKS + 1);
    expect(status).toBe("gap");
    const oldest = now - HISTORY_TICKS;
    expect(ticksOf(readings)).toEqual(Array.from({ length: HISTORY_TICKS + 2 }, (_, i) => oldest + i));
    expectTyoReadings(readings);
  });

  it("a cursor exactly at the edge of the window is still recovered", async () => {
    const now = tickAt(clock.now(), TICK_MS);
    const oldest = now - HISTORY_TICKS;
    const { status, readings } = await resume(client, String((oldest - 1) * TICK_MS), 1, 1);
    expect(status).toBe("recovered");
    expect(ticksOf(readings)).toEqual([oldest]);
  });

  it("sends no resume status without a cursor", async () => {
    let status: string | null = "unset";
    const abort = new AbortController();
    const stream = client.subscribeWeather(
      { cityCode: "TYO" },
      { signal: abort.signal, onHeader: (h) => (status = h.get(RESUME_STATUS_HEADER)) },
    );
    try {
      for await (const r of stream) {
        expect(r).toEqual(readingAt(TYO, tickAt(clock.now(), TICK_MS), TICK_MS));
        break;
      }
    } finally {
      abort.abort();
    }
    expect(status).toBeNull();
  });

  it.each(["", "abc", "-1", "1.5", "1e3", "0x10", "12345678901234567890"])(
    "refuses the malformed cursor %j with InvalidArgument",
    async (cursor) => {
      const stream = client.subscribeWeather({ cityCode: "TYO" }, { headers: { [RESUME_AFTER_HEADER]: cursor } });
      expect(await streamCodeOf(stream)).toBe(Code.InvalidArgument);
    },
  );

  it("refuses a cursor far in the future with InvalidArgument", async () => {
    const future = String((tickAt(clock.now(), TICK_MS) + HISTORY_TICKS + 5) * TICK_MS);
    const stream = client.subscribeWeather({ cityCode: "TYO" }, { headers: { [RESUME_AFTER_HEADER]: future } });
    expect(await streamCodeOf(stream)).toBe(Code.InvalidArgument);
    const max = client.subscribeWeather({ cityCode: "TYO" }, { headers: { [RESUME_AFTER_HEADER]: "9999999999999999999" } });
    expect(await streamCodeOf(max)).toBe(Code.InvalidArgument);
  });
});
