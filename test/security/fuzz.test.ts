// Fuzzing (issue 20 item 5): random and mutated tunnel messages, SSE requests
// and Connect requests against a real server on loopback, while a healthy
// subscriber on another connection keeps receiving. Checked: the server never
// reports an unexpected failure (onError), never crashes, its RSS stays
// bounded, and the healthy subscriber is never delayed by more than one tick.
//
// Short form in `npm test`; the long form is `npm run fuzz` (FUZZ_RUNS inputs
// per target). Reproduce a run with FUZZ_SEED=<seed printed on failure>.
import * as http from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeFrameBatch, envelope, type Frame } from "../../src/codec/tunnel/index.js";
import { type WeatherServer } from "../../src/server/index.js";
import { connectRawTunnel, type RawTunnel, tunnelUrl, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";
import { type HealthyWatch, MAX_HEALTHY_GAP_MS, RSS_BOUND_BYTES, sampleRss, TICK_MS, watchHealthy } from "./harness.js";

const RUNS = Number(process.env["FUZZ_RUNS"] ?? 300);
const SEED = process.env["FUZZ_SEED"] === undefined ? undefined : Number(process.env["FUZZ_SEED"]);
const TIMEOUT_MS = Math.max(60_000, RUNS * 5);
/** The fuzzer's own inputs, clients and shrink state live in the same process as the server: a wider bound than the attacks'. */
const FUZZ_RSS_BOUND_BYTES = 2 * RSS_BOUND_BYTES + 64 * 2 ** 20;
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };

const failures: unknown[] = [];
let server: WeatherServer & { url: string };
let healthy: HealthyWatch;
let from = 0;
let rss: { stop: () => number };
beforeAll(async () => {
  server = await startServer({ tickMs: TICK_MS, onError: (e) => failures.push(e), tunnel: { halfCloseTimeoutMs: 1000 } });
  healthy = await watchHealthy(server.url);
  await healthy.readings(2);
  from = healthy.count;
  rss = sampleRss();
});
afterAll(async () => {
  healthy.close();
  await server.close();
});

const paths = fc.constantFrom(...Object.values(WEATHER), "/nope", "", "/weather.WeatherService/GetWeather/x");
const headerList = fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 24 })), { maxLength: 3 });
const streamId = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1));
const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ kind: fc.constant("open" as const), streamId, path: paths, headers: headerList, initialWindow: fc.nat() }),
  fc.record({
    kind: fc.constant("data" as const),
    streamId,
    chunks: fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 32 }).map((b) => envelope(b)),
        fc.uint8Array({ maxLength: 16 }),
      ),
      { maxLength: 3 },
    ),
  }),
  fc.record({ kind: fc.constant("halfClose" as const), streamId }),
  fc.record({ kind: fc.constant("cancel" as const), streamId }),
  fc.record({ kind: fc.constant("windowUpdate" as const), streamId, bytes: fc.nat() }),
  fc.record({ kind: fc.constant("ping" as const), streamId: fc.constant(0 as const), payload: fc.nat() }),
  fc.record({ kind: fc.constant("hello" as const), streamId: fc.constant(0 as const), headers: headerList }),
);
/** A message: a valid batch, a batch with bytes flipped, cut or inserted, or plain random bytes. */
const message: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.array(frame, { maxLength: 6 }).map((frames) => encodeFrameBatch(frames)),
  fc
    .tuple(
      fc.array(frame, { minLength: 1, maxLength: 6 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom("flip", "cut", "insert"),
    )
    .map(([frames, at, byte, how]) => {
      const bytes = encodeFrameBatch(frames);
      const i = at % bytes.length;
      if (how === "cut") return bytes.subarray(0, i);
      if (how === "insert") return Uint8Array.from([...bytes.subarray(0, i), byte, ...bytes.subarray(i)]);
      const copy = Uint8Array.from(bytes);
      copy[i] = byte;
      return copy;
    }),
  fc.uint8Array({ maxLength: 64 }),
);

describe("fuzzing the real server", () => {
  it(
    `tunnel: ${RUNS} random and mutated messages`,
    async () => {
      let t: RawTunnel | undefined;
      let open = false;
      let pings = 0;
      let connections = 0;
      await fc.assert(
        fc.asyncProperty(fc.boolean(), message, async (withHello, bytes) => {
          if (t === undefined || !open) {
            t = await connectRawTunnel(tunnelUrl(server.url), { hello: withHello ? [] : false });
            open = true;
            connections++;
            void t.closed.then(() => (open = false));
          }
          t.sendRaw(bytes);
          // Wait until the server has handled it: a pong, or the close.
          const payload = ++pings;
          t.send([{ kind: "ping", streamId: 0, payload }]);
          await t.waitFor("pong", (f) => f.kind === "pong" && f.payload === payload).catch(() => undefined);
        }),
        params,
      );
      t?.close();
      console.log(`tunnel fuzz: ${RUNS} messages over ${connections} connections`);
      expect(failures).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it(
    `SSE: ${RUNS} random GET queries and POST bodies`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("GET", "POST", "PUT"),
          fc.constantFrom(WEATHER.getWeather, WEATHER.subscribeWeather, WEATHER.reportBatch, "/x.Y/Z"),
          fc.record({
            encoding: fc.constantFrom("json", "proto", "xml", ""),
            base64: fc.constantFrom("1", "0", ""),
            message: fc.string({ maxLength: 40 }),
            lastEventId: fc.oneof(fc.constant(""), fc.string({ maxLength: 22 }), fc.bigInt({ min: -10n, max: 10n ** 20n }).map(String)),
          }),
          fc.constantFrom("application/json", "application/proto", "text/plain", ""),
          async (method, path, query, contentType) => {
            const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "")).toString();
            await exchange(
              `${server.url}/sse${path}?${q}`,
              method,
              { "content-type": contentType, "last-event-id": query.lastEventId },
              query.message,
            );
          },
        ),
        params,
      );
      expect(failures).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it(
    `Connect, gRPC-Web: ${RUNS} random bodies, content types and encodings`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...Object.values(WEATHER)),
          fc.constantFrom(
            "application/proto",
            "application/json",
            "application/connect+proto",
            "application/grpc-web+proto",
            "application/grpc-web-text",
            "x",
          ),
          fc.constantFrom("", "gzip", "br", "zstd"),
          fc.uint8Array({ maxLength: 96 }),
          async (path, contentType, encoding, body) => {
            const headers: Record<string, string> = { "content-type": contentType };
            if (encoding !== "") {
              headers["content-encoding"] = encoding;
              headers["connect-content-encoding"] = encoding;
              headers["grpc-encoding"] = encoding;
            }
            await exchange(`${server.url}${path}`, "POST", headers, Buffer.from(body));
          },
        ),
        params,
      );
      expect(failures).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it("left the server healthy: RSS bounded, the healthy subscriber never delayed by more than one tick", async () => {
    await healthy.readings(healthy.count + 1);
    const rise = rss.stop();
    console.log(`fuzz: RSS rose by ${(rise / 2 ** 20).toFixed(0)} MiB at peak (server and fuzzer share the process)`);
    expect(rise).toBeLessThan(FUZZ_RSS_BOUND_BYTES);
    expect(healthy.maxGapMs(from)).toBeLessThanOrEqual(MAX_HEALTHY_GAP_MS);
    const res = await new Promise<number>((resolve, reject) =>
      http
        .get(`${server.url}/healthz`, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        })
        .on("error", reject),
    );
    expect(res).toBe(200);
  });
});

/** One HTTP/1.1 request; reads at most the first 64 KiB of the answer (a subscription never ends) and closes. */
function exchange(url: string, method: string, headers: Record<string, string>, body: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let seen = 0;
      res.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        // A live stream: the first chunk (headers, replay or an error) is enough.
        if (seen > 0) req.destroy();
      });
      res.on("end", () => resolve());
      res.on("close", () => resolve());
    });
    req.on("error", () => resolve());
    req.end(method === "GET" ? undefined : body);
  });
}
