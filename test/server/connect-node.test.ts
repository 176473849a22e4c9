// All four call modes through connect-node clients against the real server on
// port 0: Connect, gRPC and gRPC-Web over h2c, and what HTTP/1.1 can carry.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WeatherResponse, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { readingAt, tickAt } from "../../src/simulation/index.js";
import { expectStrictlyIncreasing } from "../helpers/assertions.js";
import {
  city,
  expectReadingOf,
  HTTP1_PROTOCOL_NAMES,
  type HttpVersion,
  openChat,
  PROTOCOL_NAMES,
  type ProtocolName,
  take,
  type WeatherClient,
  weatherClient,
} from "../helpers/connect-node.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { startServer } from "../helpers/server.js";

const TICK_MS = 20;
const NYC = city("NYC");
const LON = city("LON");
const TYO = city("TYO");

// A fake clock for the exact WeatherChat sequence: ticks happen when the test says.
const FAKE_START_MS = 1_795_000_000_000;
const FAKE_TICK_MS = 50;

let live: Awaited<ReturnType<typeof startServer>>;
let fake: Awaited<ReturnType<typeof startServer>>;
const fakeClock = createFakeClock(FAKE_START_MS);
const clients: { close(): void }[] = [];
// Clients cancelling streams is normal; nothing here may reach the server's onError.
const serverErrors: unknown[] = [];
const onError = (e: unknown) => serverErrors.push(e);

beforeAll(async () => {
  [live, fake] = await Promise.all([
    startServer({ tickMs: TICK_MS, onError }),
    startServer({ tickMs: FAKE_TICK_MS, clock: fakeClock, onError }),
  ]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([live.close(), fake.close()]);
  expect(serverErrors).toEqual([]);
});

function clientFor(protocol: ProtocolName, baseUrl: string, httpVersion: HttpVersion): WeatherClient {
  const c = weatherClient(protocol, baseUrl, httpVersion);
  clients.push(c);
  return c.client;
}

async function* asStream<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

function sameReading(a: WeatherResponse, b: WeatherResponse): boolean {
  return a.timestamp === b.timestamp && a.temperature === b.temperature && a.humidity === b.humidity && a.description === b.description;
}

function sampleReadings(): WeatherResponse[] {
  return [
    readingAt(NYC, 89_750_000, TICK_MS),
    readingAt(LON, 89_750_003, TICK_MS),
    readingAt(TYO, 89_750_001, TICK_MS),
    create(WeatherResponseSchema, { temperature: -3.5, humidity: 100, timestamp: 1_795_000_000_000n }),
  ];
}

async function checkUnary(client: WeatherClient): Promise<void> {
  const before = Date.now();
  const reading = await client.getWeather({ cityCode: "NYC", extended: true });
  const after = Date.now();
  expectReadingOf(reading, NYC, TICK_MS, true);
  expect(reading.description).toMatch(/New York: .* in 3 h$/);
  expect(Number(reading.timestamp)).toBeGreaterThanOrEqual(tickAt(before, TICK_MS) * TICK_MS);
  expect(Number(reading.timestamp)).toBeLessThanOrEqual(tickAt(after, TICK_MS) * TICK_MS);
  expectReadingOf(await client.getWeather({ cityCode: "TYO" }), TYO, TICK_MS);
}

async function checkServerStream(client: WeatherClient): Promise<void> {
  const before = Date.now();
  const readings = await take(5, (signal) => client.subscribeWeather({ cityCode: "LON" }, { signal }));
  expect(readings).toHaveLength(5);
  for (const r of readings) expectReadingOf(r, LON, TICK_MS);
  const timestamps = readings.map((r) => r.timestamp);
  expectStrictlyIncreasing(timestamps);
  // The current reading first, then every tick: none skipped.
  expect(Number(timestamps[0])).toBeGreaterThanOrEqual(tickAt(before, TICK_MS) * TICK_MS);
  expect(timestamps.slice(1).map((t, i) => t - (timestamps[i] ?? 0n))).toEqual([20n, 20n, 20n, 20n]);
}

async function checkClientStream(client: WeatherClient): Promise<void> {
  const readings = sampleReadings();
  const summary = await client.reportBatch(asStream(readings));
  const mean = (pick: (r: WeatherResponse) => number) => readings.reduce((sum, r) => sum + pick(r), 0) / readings.length;
  expect(summary.temperature).toBeCloseTo(
    mean((r) => r.temperature),
    10,
  );
  expect(summary.humidity).toBeCloseTo(
    mean((r) => r.humidity),
    10,
  );
  expect(summary.description).toBe("4 readings");
  expect(summary.timestamp).toBe(1_795_000_000_000n);

  const one = await client.reportBatch(asStream([readingAt(NYC, 5, 1000)]));
  expect(one).toEqual(
    create(WeatherResponseSchema, {
      temperature: readingAt(NYC, 5, 1000).temperature,
      humidity: readingAt(NYC, 5, 1000).humidity,
      description: "1 reading",
      timestamp: 5000n,
    }),
  );
}

describe.each(PROTOCOL_NAMES)("connect-node %s over h2c", (protocol) => {
  let client: WeatherClient;
  let fakeClient: WeatherClient;
  beforeAll(() => {
    client = clientFor(protocol, live.url, "2");
    fakeClient = clientFor(protocol, fake.url, "2");
  });

  it("GetWeather answers the current reading, extended with an outlook", () => checkUnary(client));

  it("SubscribeWeather streams the current reading, then every tick", () => checkServerStream(client));

  it("ReportBatch summarises the readings sent", () => checkClientStream(client));

  it("WeatherChat answers each request at once, then ticks every city asked, and ends on half-close", async () => {
    const t0 = tickAt(fakeClock.now(), FAKE_TICK_MS);
    const chat = openChat(fakeClient);
    chat.send({ cityCode: "NYC" });
    expect(await chat.next()).toEqual(readingAt(NYC, t0, FAKE_TICK_MS));
    chat.send({ cityCode: "LON", extended: true });
    expect(await chat.next()).toEqual(readingAt(LON, t0, FAKE_TICK_MS, true));

    fakeClock.advance(FAKE_TICK_MS);
    expect(await chat.next()).toEqual(readingAt(NYC, t0 + 1, FAKE_TICK_MS));
    expect(await chat.next()).toEqual(readingAt(LON, t0 + 1, FAKE_TICK_MS));

    // Asking again for a city answers again but does not double its ticks.
    chat.send({ cityCode: "NYC" });
    expect(await chat.next()).toEqual(readingAt(NYC, t0 + 1, FAKE_TICK_MS));
    fakeClock.advance(FAKE_TICK_MS);
    expect(await chat.next()).toEqual(readingAt(NYC, t0 + 2, FAKE_TICK_MS));
    expect(await chat.next()).toEqual(readingAt(LON, t0 + 2, FAKE_TICK_MS));

    chat.halfClose();
    await chat.end();
  });

  it("WeatherChat sends no tick a city already got as an answer, even when the timer fires late", async () => {
    const t0 = tickAt(fakeClock.now(), FAKE_TICK_MS);
    const chat = openChat(fakeClient);
    chat.send({ cityCode: "NYC" });
    expect(await chat.next()).toEqual(readingAt(NYC, t0, FAKE_TICK_MS));
    // Tick t0 + 1 has begun but its timer has not run yet: a request now is
    // answered with the t0 + 1 reading, which the late timer must not repeat.
    fakeClock.jump(FAKE_TICK_MS);
    chat.send({ cityCode: "LON" });
    expect(await chat.next()).toEqual(readingAt(LON, t0 + 1, FAKE_TICK_MS));
    fakeClock.advance(0);
    expect(await chat.next()).toEqual(readingAt(NYC, t0 + 1, FAKE_TICK_MS));
    fakeClock.advance(FAKE_TICK_MS);
    expect(await chat.next()).toEqual(readingAt(NYC, t0 + 2, FAKE_TICK_MS));
    expect(await chat.next()).toEqual(readingAt(LON, t0 + 2, FAKE_TICK_MS));
    chat.halfClose();
    await chat.end();
  });

  it("WeatherChat keeps ticking on the real clock for every city asked", async () => {
    const abort = new AbortController();
    const chat = openChat(client, abort.signal);
    try {
      chat.send({ cityCode: "NYC" });
      chat.send({ cityCode: "TYO" });
      const seen = new Map<string, bigint[]>([
        ["NYC", []],
        ["TYO", []],
      ]);
      while ([...seen.values()].some((timestamps) => timestamps.length < 3)) {
        const r = await chat.next();
        const tick = Number(r.timestamp) / TICK_MS;
        // Readings carry no city: tell them apart by value (skipping the
        // vanishingly rare tick where both cities read exactly the same).
        const from = [NYC, TYO].filter((c) => sameReading(r, readingAt(c, tick, TICK_MS)));
        expect(from.length, `reading at ${r.timestamp} belongs to a city asked`).toBeGreaterThan(0);
        if (from.length === 1) seen.get(from[0]?.code ?? "")?.push(r.timestamp);
      }
      for (const timestamps of seen.values()) expectStrictlyIncreasing(timestamps);
      // Ticks already under way when the client half-closes still arrive; then the stream ends cleanly.
      chat.halfClose();
      const late = await chat.rest();
      for (const r of late) {
        const tick = Number(r.timestamp) / TICK_MS;
        expect([NYC, TYO].some((c) => sameReading(r, readingAt(c, tick, TICK_MS)))).toBe(true);
      }
    } finally {
      abort.abort();
    }
  });
});

describe.each(HTTP1_PROTOCOL_NAMES)("connect-node %s over HTTP/1.1", (protocol) => {
  let client: WeatherClient;
  beforeAll(() => {
    client = clientFor(protocol, live.url, "1.1");
  });

  it("GetWeather answers the current reading", () => checkUnary(client));

  it("SubscribeWeather streams every tick", () => checkServerStream(client));

  it("ReportBatch streams the request body", () => checkClientStream(client));

  it("WeatherChat is refused at once with Unimplemented: bidi needs HTTP/2", async () => {
    const chat = openChat(client);
    chat.send({ cityCode: "NYC" });
    const error = await chat.next().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.Unimplemented);
    expect(error?.rawMessage).toMatch(/WeatherChat .* needs HTTP\/2/);
  });
});
