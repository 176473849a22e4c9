import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { describe, expect, inject, it } from "vitest";
import { WeatherService } from "../../src/gen/weather_pb.js";
import { createSseTransport } from "../../src/transport/sse/create-sse-transport.js";
import { expectStrictlyIncreasing } from "../helpers/assertions.js";

const baseUrl = inject("serverUrl");
const sse = `${baseUrl}/sse/weather.WeatherService`;

/** Reads `count` readings of a subscription, then aborts it; returns them and how the stream ended. */
async function take(
  stream: (signal: AbortSignal) => AsyncIterable<{ timestamp: bigint }>,
  count: number,
): Promise<{ timestamps: bigint[]; code: Code | undefined }> {
  const abort = new AbortController();
  const timestamps: bigint[] = [];
  try {
    for await (const r of stream(abort.signal)) {
      timestamps.push(r.timestamp);
      if (timestamps.length === count) abort.abort();
    }
    return { timestamps, code: undefined };
  } catch (e) {
    return { timestamps, code: ConnectError.from(e).code };
  }
}

describe("createSseTransport in Chromium, against a server on another origin", () => {
  const client = createClient(WeatherService, createSseTransport({ baseUrl }));

  it("is really cross-origin", () => {
    expect(new URL(baseUrl).origin).not.toBe(location.origin);
  });

  it("calls GetWeather", async () => {
    const reading = await client.getWeather({ cityCode: "LON", extended: true });
    expect(reading.timestamp).toBeGreaterThan(0n);
    expect(reading.description).toMatch(/in 3 h/);
  });

  it("streams SubscribeWeather until aborted (Canceled), in both encodings", async () => {
    for (const useBinaryFormat of [true, false]) {
      const c = createClient(WeatherService, createSseTransport({ baseUrl, useBinaryFormat }));
      const { timestamps, code } = await take((signal) => c.subscribeWeather({ cityCode: "TYO" }, { signal }), 3);
      expect(timestamps).toHaveLength(3);
      expectStrictlyIncreasing(timestamps);
      expect(code).toBe(Code.Canceled);
    }
  });

  it("resumes after Last-Event-ID, and the resume status header reaches the page through CORS", async () => {
    const first = await take((signal) => client.subscribeWeather({ cityCode: "SYD" }, { signal }), 2);
    const cursor = first.timestamps[0] ?? 0n;
    let status: string | null = null;
    const resumed = await take(
      (signal) =>
        client.subscribeWeather(
          { cityCode: "SYD" },
          { signal, headers: { "Last-Event-ID": cursor.toString() }, onHeader: (h) => (status = h.get("weather-resume-status")) },
        ),
      2,
    );
    expect(status).toBe("recovered");
    expect(resumed.timestamps).toEqual([cursor + 50n, cursor + 100n]);
  });

  it("maps errors: unknown city is InvalidArgument, client streaming is Unimplemented at once", async () => {
    const error = await client.getWeather({ cityCode: "ZZZ" }).catch((e: unknown) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    const batch = await client.reportBatch(createAsyncIterable([])).catch((e: unknown) => ConnectError.from(e));
    expect((batch as ConnectError).code).toBe(Code.Unimplemented);
  });
});

describe("Chromium's native EventSource reads the GET endpoint with a URL alone", () => {
  const json = (request: object) => `encoding=json&message=${encodeURIComponent(JSON.stringify(request))}`;

  /** Collects message and end events until `count` arrived, then closes. */
  function collect(url: string, count: number): Promise<{ type: string; data: string; lastEventId: string }[]> {
    const es = new EventSource(url);
    const events: { type: string; data: string; lastEventId: string }[] = [];
    return new Promise<typeof events>((resolve, reject) => {
      const take = (e: MessageEvent<string>) => {
        events.push({ type: e.type, data: e.data, lastEventId: e.lastEventId });
        if (events.length === count) resolve(events);
      };
      es.onmessage = take;
      es.addEventListener("end", take);
      es.onerror = () => reject(new Error(`EventSource failed on ${url}`));
    }).finally(() => es.close());
  }

  it("subscribes, with each reading's timestamp as lastEventId", async () => {
    const events = await collect(`${sse}/SubscribeWeather?${json({ cityCode: "NYC" })}`, 3);
    for (const e of events) {
      expect(e.type).toBe("message");
      expect(JSON.parse(e.data)).toMatchObject({ timestamp: e.lastEventId });
    }
    expectStrictlyIncreasing(events.map((e) => BigInt(e.lastEventId)));
  });

  it("calls GetWeather: a message, then the end event with code ok", async () => {
    const events = await collect(`${sse}/GetWeather?${json({ cityCode: "NYC" })}`, 2);
    expect(events.map((e) => e.type)).toEqual(["message", "end"]);
    expect(JSON.parse(events[1]?.data ?? "")).toEqual({ code: "ok" });
  });
});
