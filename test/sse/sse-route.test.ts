import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { createConnectRouter } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { createHttpHandler } from "../../src/server/http/http-handler.js";
import { createSseRoute } from "../../src/server/http/sse-node-route.js";
import { sseResume } from "../../src/server/sse/sse-resume.js";
import { openEventStream } from "./event-stream.js";
import { createManualClock, type ManualClock } from "./manual-clock.js";

/**
 * A service with its own cursor (the reading's description, `n=<index>`),
 * its own resume headers, and a first message that waits for the test.
 */
function createService(firstMessage: Promise<void>, onCall: () => void) {
  const router = createConnectRouter();
  router.service(WeatherService, {
    async *subscribeWeather(_req, ctx) {
      const after = Number(ctx.requestHeader.get("x-after")?.replace("n=", "") ?? "-1");
      if (after >= 0) ctx.responseHeader.set("x-resume", "recovered");
      onCall();
      await firstMessage;
      for (let n = after + 1; n < after + 4; n++) yield create(WeatherResponseSchema, { description: `n=${n}` });
    },
  });
  return router.handlers;
}

describe("createSseRoute with a generic server-streaming method", () => {
  let clock: ManualClock;
  let server: http.Server;
  let url: string;
  let release: () => void;
  let called: Promise<void>;

  beforeEach(async () => {
    clock = createManualClock(0);
    const first = new Promise<void>((resolve) => (release = resolve));
    let onCall: () => void = () => undefined;
    called = new Promise<void>((resolve) => (onCall = resolve));
    const route = createSseRoute({
      handlers: createService(first, () => onCall()),
      resume: [
        sseResume(WeatherService.method.subscribeWeather, {
          cursor: (r) => r.description,
          resumeHeader: "x-after",
          resumeStatusHeader: "x-resume",
        }),
      ],
      keepaliveMs: 50,
      readMaxBytes: 64,
      clock,
      onError: (e) => {
        throw e;
      },
    });
    const handle = createHttpHandler({ handlers: [], allowedOrigins: "*", routes: [route], onError: () => undefined });
    server = http.createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sse/weather.WeatherService/SubscribeWeather`;
  });
  afterEach(async () => {
    release();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("uses the method's own cursor as id and maps Last-Event-ID to its own resume header", async () => {
    release();
    const stream = await openEventStream(`${url}?encoding=json`, { headers: { "Last-Event-ID": "n=4" } });
    expect(stream.response.headers.get("x-resume")).toBe("recovered");
    const events = await stream.events();
    expect(events.map((e) => [e.event ?? "message", e.id ?? e.data])).toEqual([
      ["resume", "recovered"],
      ["message", "n=5"],
      ["message", "n=6"],
      ["message", "n=7"],
      ["end", '{"code":"ok"}'],
    ]);
  });

  it("commits the stream with a keepalive while the handler has produced nothing yet", async () => {
    const opening = openEventStream(`${url}?encoding=json&lastEventId=n=0`);
    await called;
    clock.advance(50); // fetch resolves on the response head, which only this keepalive can send
    const stream = await opening;
    expect(await stream.next()).toEqual({ kind: "retry", ms: 1000 });
    expect(await stream.next()).toEqual({ kind: "comment", text: "keepalive" });
    release();
    // The handler's headers came too late for the HTTP head: the resume event still says it.
    const events = await stream.events();
    expect(stream.response.headers.get("x-resume")).toBeNull();
    expect(events.map((e) => e.event ?? e.id)).toEqual(["resume", "n=1", "n=2", "n=3", "end"]);
  });

  it("refuses a request message over readMaxBytes with resource_exhausted", async () => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ cityCode: "x".repeat(100) }),
    });
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ code: "resource_exhausted" });
  });
});
