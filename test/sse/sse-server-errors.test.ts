import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../helpers/server.js";
import { openEventStream } from "./event-stream.js";

const nyc = `encoding=json&message=${encodeURIComponent('{"cityCode":"NYC"}')}`;

/** Server-side signals of the calls the interceptor saw, in order. */
const callSignals: AbortSignal[] = [];

/**
 * A server interceptor, to prove SSE goes through the router's own pipeline:
 * `authorization: deny` is refused, every call gets a header and a trailer.
 */
const interceptor: Interceptor = (next) => async (req) => {
  callSignals.push(req.signal);
  if (req.header.get("authorization") === "deny") {
    throw new ConnectError("denied by the test interceptor", Code.Unauthenticated);
  }
  const res = await next(req);
  res.header.set("x-intercepted", req.method.name);
  res.trailer.set("x-trailer", "seen");
  return res;
};

describe("SSE endpoints: errors, interceptors, cancellation", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let sse: string;

  beforeAll(async () => {
    server = await startServer({ tickMs: 60_000, interceptors: [interceptor] });
    sse = `${server.url}/sse/weather.WeatherService`;
  });
  afterAll(() => server.close());

  /** Status and JSON body of a request the route refuses before dispatch. */
  async function refused(url: string, init?: RequestInit): Promise<{ status: number; body: { code: string; message: string } }> {
    const res = await fetch(url, init);
    expect(res.headers.get("content-type")).toBe("application/json");
    return { status: res.status, body: (await res.json()) as { code: string; message: string } };
  }

  it("refuses client-streaming and bidi methods with unimplemented, naming the transports that can", async () => {
    for (const method of ["ReportBatch", "WeatherChat"]) {
      const { status, body } = await refused(`${sse}/${method}?encoding=json`);
      expect(status).toBe(501);
      expect(body.code).toBe("unimplemented");
      expect(body.message).toMatch(/WebSocket tunnel/);
      expect(body.message).toMatch(/unary and server-streaming/);
    }
  });

  it("refuses unknown methods (404), other HTTP methods (405) and malformed requests (400)", async () => {
    expect((await refused(`${sse}/NoSuchMethod?encoding=json`)).status).toBe(404);
    const put = await fetch(`${sse}/GetWeather`, { method: "PUT" });
    expect([put.status, put.headers.get("allow")]).toEqual([405, "GET, POST"]);
    const noEncoding = await refused(`${sse}/GetWeather?message=x`);
    expect([noEncoding.status, noEncoding.body.code]).toEqual([400, "invalid_argument"]);
    const form = await refused(`${sse}/GetWeather`, { method: "POST", body: "a=b" });
    expect([form.status, form.body.code]).toEqual([400, "invalid_argument"]);
    const resumeUnary = await refused(`${sse}/GetWeather?${nyc}`, { headers: { "Last-Event-ID": "1" } });
    expect([resumeUnary.status, resumeUnary.body.message]).toEqual([400, expect.stringMatching(/cannot resume/)]);
  });

  it("reports handler errors in the end event of a 200 stream, unary and streaming alike", async () => {
    for (const method of ["GetWeather", "SubscribeWeather"]) {
      const stream = await openEventStream(`${sse}/${method}?encoding=json&message=${encodeURIComponent('{"cityCode":"ZZZ"}')}`);
      expect(stream.response.status).toBe(200);
      const events = await stream.events();
      expect(events.map((e) => e.event)).toEqual(["end"]);
      const status = JSON.parse(events[0]?.data ?? "") as { code: string; message: string; metadata: object };
      expect(status.code).toBe("invalid_argument");
      expect(status.message).toMatch(/unknown city_code "ZZZ"/);
    }
  });

  it("reports a malformed request message as invalid_argument from the handler", async () => {
    const stream = await openEventStream(`${sse}/GetWeather?encoding=json&message=${encodeURIComponent("{nope")}`);
    const [end] = await stream.events();
    expect(JSON.parse(end?.data ?? "")).toMatchObject({ code: "invalid_argument" });
  });

  it("runs the router's interceptors: refusals, headers and trailers reach SSE clients", async () => {
    const denied = await openEventStream(`${sse}/SubscribeWeather?${nyc}`, { headers: { authorization: "deny" } });
    expect(JSON.parse((await denied.events())[0]?.data ?? "")).toMatchObject({ code: "unauthenticated" });

    const unary = await openEventStream(`${sse}/GetWeather?${nyc}`);
    expect(unary.response.headers.get("x-intercepted")).toBe("GetWeather");
    const [, end] = await unary.events();
    expect(JSON.parse(end?.data ?? "")).toEqual({ code: "ok", metadata: { "x-trailer": ["seen"] } });

    const stream = await openEventStream(`${sse}/SubscribeWeather?${nyc}`);
    expect(stream.response.headers.get("x-intercepted")).toBe("SubscribeWeather");
    stream.close();
  });

  it("cancels the handler when the client goes away", async () => {
    const stream = await openEventStream(`${sse}/SubscribeWeather?${nyc}`);
    await stream.events(1);
    const signal = callSignals.at(-1);
    expect(signal?.aborted).toBe(false);
    const aborted = new Promise((resolve) => signal?.addEventListener("abort", resolve, { once: true }));
    stream.close();
    await aborted;
    expect(ConnectError.from(signal?.reason).code).toBe(Code.Canceled);
  });
});
