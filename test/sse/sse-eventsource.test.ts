import { create, fromBinary, fromJsonString, toBinary } from "@bufbuild/protobuf";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetWeatherRequestSchema, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { CITIES, readingAt } from "../../src/simulation/index.js";
import { startServer } from "../helpers/server.js";
import { createManualClock, type ManualClock } from "./manual-clock.js";

const tickMs = 1000;
const startTick = 1_795_000_000;
const tyo = CITIES.get("TYO");
if (tyo === undefined) throw new Error("TYO is missing from the simulation");

interface Received {
  readonly type: string;
  readonly data: string;
  readonly lastEventId: string;
}

/**
 * Opens a standard EventSource on `url` (nothing but the URL) and collects
 * `message`, `resume` and `end` events until `done` says so; closes it then.
 */
function readEventSource(url: string, done: (events: Received[]) => boolean, onMessage?: () => void): Promise<Received[]> {
  const es = new EventSource(url);
  const events: Received[] = [];
  return new Promise<Received[]>((resolve, reject) => {
    const take = (e: MessageEvent<unknown>) => {
      events.push({ type: e.type, data: String(e.data), lastEventId: e.lastEventId });
      if (e.type === "message") onMessage?.();
      if (done(events)) resolve(events);
    };
    es.onmessage = take;
    es.addEventListener("resume", take);
    es.addEventListener("end", take);
    es.onerror = (e) => reject(new Error(`EventSource error: ${e.message ?? "?"} (HTTP ${e.code ?? "?"})`));
  }).finally(() => es.close());
}

describe("a standard EventSource (the eventsource package) reads the GET endpoint with a URL alone", () => {
  let clock: ManualClock;
  let server: Awaited<ReturnType<typeof startServer>>;
  let base: string;

  beforeAll(async () => {
    clock = createManualClock(startTick * tickMs);
    server = await startServer({ clock, tickMs });
    base = `${server.url}/sse/weather.WeatherService`;
  });
  afterAll(() => server.close());

  const json = (request: object) => `encoding=json&message=${encodeURIComponent(JSON.stringify(request))}`;

  it("subscribes: JSON readings as message events, the timestamp as lastEventId", async () => {
    const tick = Math.floor(clock.now() / tickMs);
    const events = await readEventSource(
      `${base}/SubscribeWeather?${json({ cityCode: "TYO" })}`,
      (e) => e.length === 3,
      () => clock.advance(tickMs),
    );
    expect(events.map((e) => e.type)).toEqual(["message", "message", "message"]);
    events.forEach((e, i) => {
      expect(e.lastEventId).toBe(String((tick + i) * tickMs));
      expect(fromJsonString(WeatherResponseSchema, e.data)).toEqual(readingAt(tyo, tick + i, tickMs));
    });
  });

  it("calls GetWeather: one message, then the end event with code ok", async () => {
    const events = await readEventSource(`${base}/GetWeather?${json({ cityCode: "TYO", extended: true })}`, (e) =>
      e.some((x) => x.type === "end"),
    );
    expect(events.map((e) => e.type)).toEqual(["message", "end"]);
    expect(fromJsonString(WeatherResponseSchema, events[0]?.data ?? "").description).toMatch(/in 3 h/);
    expect(JSON.parse(events[1]?.data ?? "")).toEqual({ code: "ok" });
  });

  it("gets base64 binary readings with encoding=proto&base64=1", async () => {
    const message = Buffer.from(toBinary(GetWeatherRequestSchema, create(GetWeatherRequestSchema, { cityCode: "TYO" })));
    const [event] = await readEventSource(
      `${base}/SubscribeWeather?encoding=proto&base64=1&message=${message.toString("base64url")}`,
      (e) => e.length === 1,
    );
    const reading = fromBinary(WeatherResponseSchema, Buffer.from(event?.data ?? "", "base64"));
    expect(String(reading.timestamp)).toBe(event?.lastEventId);
  });

  it("learns of errors from the end event, which carries the code and message", async () => {
    const [end] = await readEventSource(`${base}/SubscribeWeather?${json({ cityCode: "ZZZ" })}`, (e) => e.length === 1);
    expect(end?.type).toBe("end");
    expect(JSON.parse(end?.data ?? "")).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/ZZZ/) as unknown });
  });

  it("resumes from a stored cursor given as the lastEventId query parameter, and hears about it", async () => {
    const tick = Math.floor(clock.now() / tickMs);
    clock.advance(2 * tickMs);
    const events = await readEventSource(
      `${base}/SubscribeWeather?${json({ cityCode: "TYO" })}&lastEventId=${tick * tickMs}`,
      (e) => e.length === 3,
    );
    expect(events.map((e) => [e.type, e.type === "resume" ? e.data : e.lastEventId])).toEqual([
      ["resume", "recovered"],
      ["message", String((tick + 1) * tickMs)],
      ["message", String((tick + 2) * tickMs)],
    ]);
  });
});
