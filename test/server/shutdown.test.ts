// Graceful shutdown of the real server: open streams end with Unavailable so
// clients resume elsewhere, close() resolves, and the port stops accepting.
import * as http from "node:http";
import { type MessageInitShape } from "@bufbuild/protobuf";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { type WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { readingAt } from "../../src/simulation/index.js";
import { city, Code, codeOf, type HttpVersion, openChat, type ProtocolName, streamCodeOf, weatherClient } from "../helpers/connect-node.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { connectError } from "../helpers/raw-http.js";
import { startServer } from "../helpers/server.js";

const TICK_MS = 1000;
const GRACE_MS = 5000;
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/**
 * A server on a fake clock: the grace period can only pass when a test
 * advances it. `callStarted` resolves once the server has started a call.
 */
async function start() {
  const clock = createFakeClock(1_795_000_000_000);
  const started: (() => void)[] = [];
  const callStarted = new Promise<void>((resolve) => started.push(resolve));
  const server = await startServer({
    tickMs: TICK_MS,
    shutdownGraceMs: GRACE_MS,
    clock,
    interceptors: [
      (next) => (req) => {
        for (const resolve of started) resolve();
        return next(req);
      },
    ],
  });
  return { clock, server, port: Number(new URL(server.url).port), callStarted };
}

function client(protocol: ProtocolName, baseUrl: string, httpVersion: HttpVersion) {
  const c = weatherClient(protocol, baseUrl, httpVersion);
  cleanups.push(c.close);
  return c.client;
}

/** Opens SubscribeWeather, waits for its first reading and returns how the rest of the stream ends. */
async function openSubscription(protocol: ProtocolName, baseUrl: string, httpVersion: HttpVersion): Promise<{ end: Promise<Code> }> {
  const stream = client(protocol, baseUrl, httpVersion).subscribeWeather({ cityCode: "NYC" });
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  expect(first.done).toBe(false);
  return { end: streamCodeOf({ [Symbol.asyncIterator]: () => iterator }) };
}

function get(agent: http.Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(new URL("/healthz", url), { agent }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("server.close()", () => {
  it("ends open SubscribeWeather and WeatherChat streams with Unavailable, resolves without the grace period, and stops accepting", async () => {
    const { server, port } = await start();
    const ends = await Promise.all([
      openSubscription("Connect", server.url, "2"),
      openSubscription("gRPC-Web", server.url, "2"),
      openSubscription("Connect", server.url, "1.1"),
      openSubscription("gRPC-Web", server.url, "1.1"),
    ]);
    const chat = openChat(client("Connect", server.url, "2"));
    chat.send({ cityCode: "LON" });
    await chat.next();
    const chatEnd = codeOf(
      (async () => {
        for (;;) await chat.next();
      })(),
    );

    // The fake clock never reaches the grace period: close() must not need it.
    await server.close();
    expect(await Promise.all(ends.map((s) => s.end))).toEqual([Code.Unavailable, Code.Unavailable, Code.Unavailable, Code.Unavailable]);
    expect(await chatEnd).toBe(Code.Unavailable);
    expect(await connectError(port)).toBe("ECONNREFUSED");
    // Calling it again is harmless.
    await server.close();
  });

  // Fails today: close() destroys every socket as soon as the last response
  // emitted "close", before HTTP/2 has flushed the gRPC trailers, so the
  // client sees the connection cut (Canceled) instead of the Unavailable
  // status. Needs the change to create-weather-server.ts described in the
  // issue 12 test report (wait for sockets to close themselves, bounded by
  // the grace period, before destroying them).
  it("ends an open gRPC stream with Unavailable too", async () => {
    const { server } = await start();
    const { end } = await openSubscription("gRPC", server.url, "2");
    await server.close();
    expect(await end).toBe(Code.Unavailable);
  });

  it("lets an unfinished call run for up to shutdownGraceMs, answers /healthz with 503 meanwhile, then cuts it", async () => {
    const { clock, server, port, callStarted } = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    expect(await get(agent, server.url)).toEqual({ status: 200, body: "ok\n" });

    // A ReportBatch whose client never finishes sending.
    const requests = createWritableIterable<MessageInitShape<typeof WeatherResponseSchema>>();
    const batch = codeOf(client("Connect", server.url, "2").reportBatch(requests));
    await requests.write(readingAt(city("NYC"), 1, TICK_MS));
    await callStarted;

    let closed = false;
    const closing = server.close().then(() => (closed = true));
    expect(await connectError(port)).toBe("ECONNREFUSED");
    // The keep-alive connection opened before close() still gets an answer.
    expect(await get(agent, server.url)).toEqual({ status: 503, body: "shutting down\n" });
    expect(closed).toBe(false);

    clock.advance(GRACE_MS);
    await closing;
    // The connection is cut under the call; connect-node reports an HTTP/2
    // connection that vanished as Canceled (an RST_STREAM REFUSED_STREAM
    // would read as Unavailable).
    expect([Code.Canceled, Code.Unavailable]).toContain(await batch);
  });
});
