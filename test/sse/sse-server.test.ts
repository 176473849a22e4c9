import { create, fromBinary, fromJsonString, toBinary } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GetWeatherRequestSchema, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { CITIES, readingAt } from "../../src/simulation/index.js";
import { startServer } from "../helpers/server.js";
import { createManualClock, type ManualClock } from "./manual-clock.js";
import { openEventStream } from "./event-stream.js";

const tickMs = 1000;
const startTick = 1_795_000_000;
const nyc = CITIES.get("NYC");
if (nyc === undefined) throw new Error("NYC is missing from the simulation");

/** `?encoding=json&message=…` for a GetWeatherRequest. */
function jsonQuery(request: object): string {
  return `encoding=json&message=${encodeURIComponent(JSON.stringify(request))}`;
}

describe("SSE endpoints of the reference server", () => {
  let clock: ManualClock;
  let server: Awaited<ReturnType<typeof startServer>>;
  let sse: string;

  beforeEach(async () => {
    clock = createManualClock(startTick * tickMs);
    server = await startServer({ clock, tickMs, sseKeepaliveMs: 100, sseRetryMs: 250 });
    sse = `${server.url}/sse/weather.WeatherService`;
  });
  afterEach(() => server.close());

  it("streams SubscribeWeather over GET with JSON data, the timestamp as id, and a retry hint first", async () => {
    const stream = await openEventStream(`${sse}/SubscribeWeather?${jsonQuery({ cityCode: "NYC" })}`);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toBe("text/event-stream");
    expect(stream.response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(await stream.next()).toEqual({ kind: "retry", ms: 250 });
    const [first] = await stream.events(1);
    clock.advance(tickMs);
    const [second] = await stream.events(1);
    stream.close();
    for (const [event, tick] of [
      [first, startTick],
      [second, startTick + 1],
    ] as const) {
      expect(event?.id).toBe(String(tick * tickMs));
      expect(event?.event).toBeUndefined();
      expect(fromJsonString(WeatherResponseSchema, event?.data ?? "")).toEqual(readingAt(nyc, tick, tickMs));
    }
    // JSON as Connect writes it: int64 as a decimal string.
    expect(first?.data).toContain(`"timestamp":"${startTick * tickMs}"`);
  });

  it("answers GetWeather over POST with base64 protobuf: one message event, then end ok", async () => {
    const body = toBinary(GetWeatherRequestSchema, create(GetWeatherRequestSchema, { cityCode: "NYC", extended: true }));
    const stream = await openEventStream(`${sse}/GetWeather`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body,
    });
    const events = await stream.events();
    expect(events).toHaveLength(2);
    expect(events[0]?.id).toBeUndefined();
    expect(fromBinary(WeatherResponseSchema, Buffer.from(events[0]?.data ?? "", "base64"))).toEqual(
      readingAt(nyc, startTick, tickMs, true),
    );
    expect(events[1]).toEqual({ kind: "event", event: "end", id: undefined, data: '{"code":"ok"}' });
  });

  it("takes binary GET requests with base64=1, like Connect GET", async () => {
    const message = Buffer.from(toBinary(GetWeatherRequestSchema, create(GetWeatherRequestSchema, { cityCode: "NYC" })));
    const stream = await openEventStream(`${sse}/GetWeather?encoding=proto&base64=1&message=${message.toString("base64url")}`);
    const [event] = await stream.events(1);
    expect(fromBinary(WeatherResponseSchema, Buffer.from(event?.data ?? "", "base64")).timestamp).toBe(BigInt(startTick * tickMs));
    stream.close();
  });

  describe("resume", () => {
    const path = () => `${sse}/SubscribeWeather?${jsonQuery({ cityCode: "NYC" })}`;
    const cursor = (tick: number) => String(tick * tickMs);

    beforeEach(() => clock.advance(5 * tickMs));

    it("maps Last-Event-ID to the resume header: replays every reading after it, says recovered", async () => {
      const stream = await openEventStream(path(), { headers: { "Last-Event-ID": cursor(startTick + 1) } });
      expect(stream.response.headers.get("weather-resume-status")).toBe("recovered");
      const events = await stream.events(5);
      stream.close();
      expect(events[0]).toMatchObject({ event: "resume", data: "recovered" });
      expect(events.slice(1).map((e) => e.id)).toEqual([2, 3, 4, 5].map((i) => cursor(startTick + i)));
    });

    it("accepts the cursor as a lastEventId query parameter; the header wins when both are sent", async () => {
      const query = await openEventStream(`${path()}&lastEventId=${cursor(startTick + 3)}`);
      const both = await openEventStream(`${path()}&lastEventId=${cursor(startTick + 3)}`, {
        headers: { "Last-Event-ID": cursor(startTick + 4) },
      });
      const [, fromQuery] = await query.events(2);
      const [, fromHeader] = await both.events(2);
      query.close();
      both.close();
      expect(fromQuery?.id).toBe(cursor(startTick + 4));
      expect(fromHeader?.id).toBe(cursor(startTick + 5));
    });

    it("signals a gap, in a header and an event, when the cursor is older than the history", async () => {
      await server.close();
      server = await startServer({ clock, tickMs, historyWindowMs: 2 * tickMs });
      sse = `${server.url}/sse/weather.WeatherService`;
      const stream = await openEventStream(path(), { headers: { "Last-Event-ID": cursor(startTick) } });
      expect(stream.response.headers.get("weather-resume-status")).toBe("gap");
      const events = await stream.events(2);
      stream.close();
      expect(events[0]).toMatchObject({ event: "resume", data: "gap" });
      expect(events[1]?.id).toBe(cursor(startTick + 5 - 2));
    });

    it("passes a malformed cursor to the handler, which answers invalid_argument in the end event", async () => {
      const stream = await openEventStream(path(), { headers: { "Last-Event-ID": "yesterday" } });
      const events = await stream.events();
      expect(events).toHaveLength(1);
      expect(events[0]?.event).toBe("end");
      expect(JSON.parse(events[0]?.data ?? "")).toMatchObject({ code: "invalid_argument" });
    });
  });

  it("sends a comment when nothing else was written for a keepalive interval", async () => {
    const stream = await openEventStream(`${sse}/SubscribeWeather?${jsonQuery({ cityCode: "NYC" })}`);
    await stream.events(1);
    clock.advance(100); // the reading went out in this interval: no comment
    clock.advance(100);
    expect(await stream.next()).toEqual({ kind: "comment", text: "keepalive" });
    clock.advance(100);
    expect(await stream.next()).toEqual({ kind: "comment", text: "keepalive" });
    clock.advance(tickMs - 300);
    const [next] = await stream.events(1); // after the comments of the intervals just skipped
    expect(next?.id).toBe(String((startTick + 1) * tickMs));
    stream.close();
  });

  it("ends open streams with unavailable when the server shuts down", async () => {
    const stream = await openEventStream(`${sse}/SubscribeWeather?${jsonQuery({ cityCode: "NYC" })}`);
    await stream.events(1);
    const closed = server.close();
    const events = await stream.events();
    await closed;
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toBe("end");
    expect(JSON.parse(events[0]?.data ?? "")).toMatchObject({ code: "unavailable" });
  });
});
