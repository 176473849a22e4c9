import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { createSimulatedSource } from "../../src/server/weather/simulated-source.js";
import { followWithObject, type SourceReading, type WeatherSource } from "../../src/server/weather/weather-source.js";
import { CITIES, readingAt } from "../../src/simulation/index.js";
import { rejection } from "../helpers/assertions.js";
import { createFakeClock } from "../helpers/fake-clock.js";

const TICK_MS = 1000;
const START_MS = 1_800_000_000_000; // on a tick boundary
const nyc = CITIES.get("NYC");
if (nyc === undefined) throw new Error("NYC is a known city");

function setup(historyWindowMs = 10_000) {
  const clock = createFakeClock(START_MS + 10);
  const source = createSimulatedSource({ tickMs: TICK_MS, historyWindowMs, clock });
  return { clock, source };
}

const stamps = (readings: readonly SourceReading[]) => readings.map((r) => Number(r.timestamp));
const reported = (timestamp: number, description = "station") =>
  create(WeatherResponseSchema, { temperature: 20, humidity: 50, description, timestamp: BigInt(timestamp) });

describe("simulated weather source", () => {
  it("follows a city with one shared, frozen reading per tick, every tick once and in order even when the timer runs late", () => {
    const { clock, source } = setup();
    const a: SourceReading[] = [];
    const b: SourceReading[] = [];
    source.follow("NYC", (r) => a.push(r));
    // A follower object's onReading is called as a method (push subscriptions follow with themselves), by the
    // source itself: its `follow` (which takes functions) is not used for it.
    class Collector {
      readonly got = b;
      onReading(reading: SourceReading): void {
        this.got.push(reading);
      }
    }
    const noFollow = Object.create(source, {
      follow: {
        value: () => {
          throw new Error("followed through follow");
        },
      },
    }) as WeatherSource;
    followWithObject(noFollow, "NYC", new Collector());
    clock.advance(TICK_MS);
    clock.jump(2 * TICK_MS); // the event loop was busy: two more ticks are due when the timer runs
    clock.advance(TICK_MS);
    expect(stamps(a)).toEqual([1, 2, 3, 4].map((n) => START_MS + n * TICK_MS));
    expect(b).toEqual(a);
    expect(a[0]?.plain).toBe(b[0]?.plain);
    expect(a[0]?.plain).toEqual(readingAt(nyc, START_MS / TICK_MS + 1, TICK_MS));
    expect(a[0]?.extended.description).toBe(readingAt(nyc, START_MS / TICK_MS + 1, TICK_MS, true).description);
  });

  it("stops calling a listener once it unsubscribes, and keeps no timer without followers", () => {
    const { clock, source } = setup();
    const got: SourceReading[] = [];
    const stop = source.follow("LON", (r) => got.push(r));
    clock.advance(TICK_MS);
    stop();
    clock.advance(5 * TICK_MS);
    expect(got).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it("replays after a cursor within the window, reports a gap beyond it, and gives the newest reading without a cursor", async () => {
    const { source } = setup(5000);
    const after = await source.replay("NYC", BigInt(START_MS - 3 * TICK_MS));
    expect(after.gap).toBe(false);
    expect(stamps(after.readings)).toEqual([-2, -1, 0].map((n) => START_MS + n * TICK_MS));

    const old = await source.replay("NYC", BigInt(START_MS - 60 * TICK_MS));
    expect(old.gap).toBe(true);
    expect(stamps(old.readings)[0]).toBe(START_MS - 5 * TICK_MS);

    const page = await source.replay("NYC", BigInt(START_MS - 3 * TICK_MS), 2);
    expect(stamps(page.readings)).toEqual([-2, -1].map((n) => START_MS + n * TICK_MS));
    const rest = await source.replay("NYC", page.readings[1]?.timestamp ?? 0n, 2);
    expect(stamps(rest.readings)).toEqual([START_MS]);

    const newest = source.newest("NYC");
    expect(newest).not.toBeInstanceOf(Promise);
    expect(newest).toMatchObject({ cityCode: "NYC", timestamp: BigInt(START_MS) });
  });

  it("appends reported readings between ticks for followers and replays, and refuses old, future and unknown ones with clear codes", async () => {
    const { clock, source } = setup();
    const got: SourceReading[] = [];
    source.follow("PAR", (r) => got.push(r));
    clock.jump(TICK_MS + 500); // tick START+1s is due but its timer has not run yet
    await source.append("PAR", [reported(START_MS + TICK_MS + 400)]);
    clock.advance(TICK_MS);
    // The due tick went out before the reported reading, the next tick after it.
    expect(stamps(got)).toEqual([START_MS + TICK_MS, START_MS + TICK_MS + 400, START_MS + 2 * TICK_MS]);
    const replay = await source.replay("PAR", BigInt(START_MS));
    expect(stamps(replay.readings)).toEqual(stamps(got));
    // Pages of one cut between a tick and the reported reading after it, and between that and the next tick.
    const first = await source.replay("PAR", BigInt(START_MS), 1);
    const second = await source.replay("PAR", first.readings[0]?.timestamp ?? 0n, 1);
    expect([...stamps(first.readings), ...stamps(second.readings)]).toEqual(stamps(got).slice(0, 2));

    const stale = await rejection(source.append("PAR", [reported(START_MS + 2 * TICK_MS)]));
    expect(stale.code).toBe(Code.FailedPrecondition);
    const future = await rejection(source.append("PAR", [reported(clock.now() + 1)]));
    expect(future.code).toBe(Code.InvalidArgument);
    const unknown = await rejection(source.replay("XXX", 0n));
    expect(unknown.code).toBe(Code.InvalidArgument);
    expect(() => source.follow("", () => undefined)).toThrow(/city_code is required/);
  });

  it("forgets reported readings that left the window", async () => {
    const { clock, source } = setup(3000);
    await source.append("NYC", [reported(START_MS + 5, "early")]);
    clock.advance(10 * TICK_MS);
    const replay = await source.replay("NYC", BigInt(START_MS));
    expect(replay.gap).toBe(true);
    expect(replay.readings.some((r) => r.plain.description === "early")).toBe(false);
  });
});
