import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { EventSource } from "eventsource";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WeatherService } from "../../src/gen/weather_pb.js";
import { createSseTransport } from "../../src/transport/sse/create-sse-transport.js";
import { startServer } from "../helpers/server.js";
import { createCuttableFetch } from "./cuttable-fetch.js";
import { createManualClock, type ManualClock } from "./manual-clock.js";

const tickMs = 1000;
const startTick = 1_795_000_000;
const ts = (tick: number) => BigInt(tick * tickMs);

/** Every timestamp from tick `from` to tick `to`, once each, in order. */
function everyTick(from: number, to: number): bigint[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ts(from + i));
}

describe("resume across a forced disconnect", () => {
  let clock: ManualClock;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeEach(async () => {
    clock = createManualClock(startTick * tickMs);
    server = await startServer({ clock, tickMs, sseRetryMs: 5 });
  });
  afterEach(() => server.close());

  it("through createSseTransport: cut mid-stream, reconnect with Last-Event-ID, no reading lost or repeated", async () => {
    const cuttable = createCuttableFetch();
    const client = createClient(WeatherService, createSseTransport({ baseUrl: server.url, fetch: cuttable.fetch }));
    const delivered: bigint[] = [];
    const statuses: (string | null)[] = [];

    /** Reads one connection until `stopAt` readings were delivered in total; returns how it ended. */
    async function connect(stopAt: number, onReading: (count: number) => void): Promise<ConnectError | undefined> {
      const last = delivered.at(-1);
      const abort = new AbortController();
      try {
        const stream = client.subscribeWeather(
          { cityCode: "SYD" },
          {
            signal: abort.signal,
            headers: last === undefined ? {} : { "Last-Event-ID": last.toString() },
            onHeader: (h) => statuses.push(h.get("weather-resume-status")),
          },
        );
        for await (const reading of stream) {
          delivered.push(reading.timestamp);
          if (delivered.length === stopAt) abort.abort();
          else onReading(delivered.length);
        }
      } catch (e) {
        return ConnectError.from(e);
      }
      return undefined;
    }

    // Connection 1: three readings, then two more ticks that the server sends
    // but the client has not read when the connection is cut: lost in flight.
    const cut = await connect(Infinity, (count) => {
      if (count < 3) clock.advance(tickMs);
      if (count === 3) {
        clock.advance(2 * tickMs);
        cuttable.cut();
      }
    });
    expect(cut?.code).toBe(Code.Unavailable);
    expect(delivered).toEqual(everyTick(startTick, startTick + 2));

    // Offline for three more ticks, then connection 2 resumes from the last cursor delivered.
    clock.advance(3 * tickMs);
    const end = await connect(10, (count) => {
      if (count >= 8) clock.advance(tickMs); // replay covers ticks 3..8; then live ticks
    });
    expect(end?.code).toBe(Code.Canceled);
    expect(cuttable.requests[1]?.headers.get("Last-Event-ID")).toBe(ts(startTick + 2).toString());
    expect(statuses).toEqual([null, "recovered"]);
    expect(delivered).toEqual(everyTick(startTick, startTick + 9));
  });

  it("through a standard EventSource: it reconnects by itself with Last-Event-ID, no reading lost or repeated", async () => {
    const cuttable = createCuttableFetch();
    const url = `${server.url}/sse/weather.WeatherService/SubscribeWeather?encoding=json&message=${encodeURIComponent('{"cityCode":"SYD"}')}`;
    const es = new EventSource(url, { fetch: cuttable.fetch });
    const ids: string[] = [];
    const timestamps: string[] = [];
    const resumes: string[] = [];
    let opens = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        es.addEventListener("resume", (e) => resumes.push(String(e.data)));
        es.addEventListener("end", (e) => reject(new Error(`unexpected end: ${String(e.data)}`)));
        es.onopen = () => opens++;
        es.onerror = () => {
          // Offline for three ticks; EventSource retries after the 5 ms the server's retry: asked for.
          if (opens === 1) clock.advance(3 * tickMs);
        };
        es.onmessage = (e) => {
          ids.push(e.lastEventId);
          timestamps.push((JSON.parse(String(e.data)) as { timestamp: string }).timestamp);
          if (ids.length < 3 || (ids.length >= 8 && ids.length < 10)) clock.advance(tickMs);
          if (ids.length === 3) {
            clock.advance(2 * tickMs); // sent, not read: lost in flight
            cuttable.cut();
          }
          if (ids.length === 10) resolve();
        };
      });
    } finally {
      es.close();
    }
    expect(opens).toBe(2);
    expect(cuttable.requests[1]?.headers.get("Last-Event-ID")).toBe(ts(startTick + 2).toString());
    expect(resumes).toEqual(["recovered"]);
    expect(ids).toEqual(everyTick(startTick, startTick + 9).map(String));
    expect(timestamps).toEqual(ids);
  });
});
