import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { CITIES, readingAt } from "../../src/simulation/index.js";
import { isTransportOpenFailure } from "../../src/transport/open-error.js";
import { createSseTransport } from "../../src/transport/sse/create-sse-transport.js";
import { startServer } from "../helpers/server.js";
import { createCuttableFetch } from "./cuttable-fetch.js";
import { createManualClock, type ManualClock } from "./manual-clock.js";

const tickMs = 1000;
const startTick = 1_795_000_000;
const lon = CITIES.get("LON");
if (lon === undefined) throw new Error("LON is missing from the simulation");

/** The error a promise rejects with, as a ConnectError. */
async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
}

/** Server interceptor: a trailer on every call, so tests can see trailers arrive. */
const trailerInterceptor: Interceptor = (next) => async (req) => {
  const res = await next(req);
  res.trailer.set("x-served-by", `sse-test:${req.method.name}`);
  return res;
};

describe("createSseTransport against the reference server", () => {
  let clock: ManualClock;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    clock = createManualClock(startTick * tickMs);
    server = await startServer({ clock, tickMs, interceptors: [trailerInterceptor] });
  });
  afterAll(() => server.close());

  for (const useBinaryFormat of [true, false]) {
    describe(useBinaryFormat ? "binary (base64 events)" : "JSON events", () => {
      const client = () => createClient(WeatherService, createSseTransport({ baseUrl: server.url, useBinaryFormat }));

      it("calls GetWeather, with response headers and trailers", async () => {
        let trailer: Headers | undefined;
        let header: Headers | undefined;
        const reading = await client().getWeather(
          { cityCode: "LON", extended: true },
          { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
        );
        expect(reading).toEqual(readingAt(lon, tickAtNow(), tickMs, true));
        expect(header?.get("content-type")).toBe("text/event-stream");
        expect(trailer?.get("x-served-by")).toBe("sse-test:GetWeather");
      });

      it("streams SubscribeWeather until the caller aborts, which is Canceled", async () => {
        const abort = new AbortController();
        const seen: bigint[] = [];
        const error = await failure(
          (async () => {
            for await (const r of client().subscribeWeather({ cityCode: "LON" }, { signal: abort.signal })) {
              seen.push(r.timestamp);
              if (seen.length === 3) abort.abort();
              else clock.advance(tickMs);
            }
          })(),
        );
        expect(error.code).toBe(Code.Canceled);
        const first = seen[0] ?? 0n;
        expect(seen).toEqual([first, first + 1000n, first + 2000n]);
      });
    });
  }

  function tickAtNow(): number {
    return Math.floor(clock.now() / tickMs);
  }

  const client = () => createClient(WeatherService, createSseTransport({ baseUrl: server.url }));

  it("maps server errors to their codes, unary and streaming", async () => {
    expect((await failure(client().getWeather({ cityCode: "ZZZ" }))).code).toBe(Code.InvalidArgument);
    const stream = client().subscribeWeather({ cityCode: "ZZZ" });
    const error = await failure(
      (async () => {
        for await (const _ of stream) throw new Error("no reading expected");
      })(),
    );
    expect([error.code, error.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/unknown city_code/)]);
  });

  it("fails client-streaming and bidi calls at once with Unimplemented, without a request", async () => {
    const cuttable = createCuttableFetch();
    const sse = createClient(WeatherService, createSseTransport({ baseUrl: server.url, fetch: cuttable.fetch }));
    const batch = await failure(sse.reportBatch(createAsyncIterable([create(WeatherResponseSchema, { temperature: 1 })])));
    expect([batch.code, batch.rawMessage]).toEqual([Code.Unimplemented, expect.stringMatching(/WebSocket/)]);
    const chat = await failure(
      (async () => {
        for await (const _ of sse.weatherChat(createAsyncIterable([]))) break;
      })(),
    );
    expect(chat.code).toBe(Code.Unimplemented);
    expect(cuttable.requests).toHaveLength(0);
  });

  it("applies the deadline of timeoutMs as DeadlineExceeded", async () => {
    const error = await failure(
      (async () => {
        // The manual clock never reaches the next tick: only the deadline ends this.
        for await (const _ of client().subscribeWeather({ cityCode: "LON" }, { timeoutMs: 50 })) continue;
      })(),
    );
    expect(error.code).toBe(Code.DeadlineExceeded);
  });

  it("runs client interceptors around the call, which see the request and the response headers", async () => {
    const seen: string[] = [];
    const interceptor: Interceptor = (next) => async (req) => {
      req.header.set("x-from-interceptor", "1");
      seen.push(`${req.method.name} ${req.url} ${req.header.get("content-type") ?? ""}`);
      const res = await next(req);
      seen.push(`header ${res.header.get("content-type") ?? ""}`);
      return res;
    };
    const cuttable = createCuttableFetch();
    const sse = createClient(
      WeatherService,
      createSseTransport({ baseUrl: server.url, interceptors: [interceptor], fetch: cuttable.fetch }),
    );
    await sse.getWeather({ cityCode: "LON" });
    expect(seen).toEqual([`GetWeather ${server.url}/sse/weather.WeatherService/GetWeather application/proto`, "header text/event-stream"]);
    expect(cuttable.requests[0]?.headers.get("x-from-interceptor")).toBe("1");
  });

  it("reports a stream cut before its end event as Unavailable", async () => {
    const cuttable = createCuttableFetch();
    const sse = createClient(WeatherService, createSseTransport({ baseUrl: server.url, fetch: cuttable.fetch }));
    const error = await failure(
      (async () => {
        for await (const _ of sse.subscribeWeather({ cityCode: "LON" })) cuttable.cut();
      })(),
    );
    expect([error.code, error.rawMessage]).toEqual([Code.Unavailable, expect.stringMatching(/Last-Event-ID/)]);
  });

  it("reports a body that ends without an end event as Unavailable", async () => {
    const truncated = () => Promise.resolve(new Response("retry: 1\n\ndata: \n\n", { headers: { "content-type": "text/event-stream" } }));
    const sse = createClient(WeatherService, createSseTransport({ baseUrl: server.url, fetch: truncated }));
    expect((await failure(sse.getWeather({ cityCode: "LON" }))).code).toBe(Code.Unavailable);
  });

  it("reassembles events split anywhere, even inside a UTF-8 character, and rejects bad data with Internal", async () => {
    const text =
      'retry: 5\r\n\r\n: hi\r\ndata: {"description":"12 °C",\r\ndata: "timestamp":"7"}\r\n\r\nevent: end\r\ndata: {"code":"ok"}\r\n\r\n';
    const bytes = new TextEncoder().encode(text);
    const byteByByte = () =>
      Promise.resolve(
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              for (let i = 0; i < bytes.length; i++) controller.enqueue(bytes.subarray(i, i + 1));
              controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
      );
    const json = createClient(WeatherService, createSseTransport({ baseUrl: server.url, useBinaryFormat: false, fetch: byteByByte }));
    expect(await json.getWeather({ cityCode: "LON" })).toMatchObject({ description: "12 °C", timestamp: 7n });

    const answer = (body: string) => () => Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
    const bad = (body: string) => createClient(WeatherService, createSseTransport({ baseUrl: server.url, fetch: answer(body) }));
    const end = 'event: end\ndata: {"code":"ok"}\n\n';
    expect((await failure(bad(`data: !!notbase64protobuf\n\n${end}`).getWeather({}))).code).toBe(Code.Internal);
    expect((await failure(bad(`data: \n\ndata: \n\n${end}`).getWeather({}))).code).toBe(Code.Internal);
    expect((await failure(bad("event: end\ndata: {nope\n\n").getWeather({}))).code).toBe(Code.Internal);
  });

  it("reports a failed fetch and a non-SSE answer as Unavailable open failures (the fallback marker)", async () => {
    const refused = createClient(WeatherService, createSseTransport({ baseUrl: "http://127.0.0.1:1" }));
    const network = await failure(refused.getWeather({ cityCode: "LON" }));
    expect([network.code, isTransportOpenFailure(network)]).toEqual([Code.Unavailable, true]);

    const proxyPage = () => Promise.resolve(new Response("<html>blocked</html>", { headers: { "content-type": "text/html" } }));
    const proxied = createClient(WeatherService, createSseTransport({ baseUrl: server.url, fetch: proxyPage }));
    const html = await failure(proxied.getWeather({ cityCode: "LON" }));
    expect([html.code, isTransportOpenFailure(html)]).toEqual([Code.Unavailable, true]);

    const noRoute = createClient(WeatherService, createSseTransport({ baseUrl: `${server.url}/elsewhere` }));
    expect(isTransportOpenFailure(await failure(noRoute.getWeather({ cityCode: "LON" })))).toBe(true);
  });

  it("reports a Connect JSON error answer with its code, not as an open failure", async () => {
    const answer = () => Promise.resolve(Response.json({ code: "permission_denied", message: "not you" }, { status: 403 }));
    const sse = createClient(WeatherService, createSseTransport({ baseUrl: server.url, fetch: answer }));
    const error = await failure(sse.getWeather({ cityCode: "LON" }));
    expect([error.code, error.rawMessage, isTransportOpenFailure(error)]).toEqual([Code.PermissionDenied, "not you", false]);
  });
});
