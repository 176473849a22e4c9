import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WeatherService } from "../../src/gen/weather_pb.js";
import { createFetchTransport } from "../../src/transport/fetch-transports.js";
import { rejection } from "../helpers/assertions.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { startServer } from "../helpers/server.js";
import { TICK_MS, transportContract } from "../contract/transport-contract.js";

// The fallback transports createWeatherClient loads on demand (binary protobuf only, see
// src/transport/fetch-transports.ts), exactly as the client builds them: the same contract as
// every other transport, and the same answers as connect-web's transports with binary messages.
const realServer = () => startServer({ tickMs: TICK_MS });
const settings = (baseUrl: string) => ({ baseUrl, sseBaseUrl: baseUrl, interceptors: [], fetch: globalThis.fetch });
const noStreamingRequests = { clientStreaming: false, bidiStreaming: false };

transportContract(
  "Connect (weather client, binary)",
  (url) => createFetchTransport("connect", settings(url)),
  noStreamingRequests,
  realServer,
);
transportContract(
  "gRPC-Web (weather client, binary)",
  (url) => createFetchTransport("grpc-web", settings(url)),
  noStreamingRequests,
  realServer,
);
transportContract("SSE (weather client, binary)", (url) => createFetchTransport("sse", settings(url)), noStreamingRequests, realServer);

/** Headers as a record, without `Date` (the second it was sent differs between two calls). */
const withoutDate = (h: Headers) => Object.fromEntries([...h].filter(([name]) => name !== "date"));

/** What a caller can observe of one call: its outcome, and the headers and trailers it was given. */
async function observe(call: (options: { onHeader: (h: Headers) => void; onTrailer: (t: Headers) => void }) => Promise<unknown>) {
  let header: Record<string, string> | undefined;
  let trailer: Record<string, string> | undefined;
  const outcome = await call({
    onHeader: (h) => (header = withoutDate(h)),
    onTrailer: (t) => (trailer = Object.fromEntries(t)),
  }).then(
    (value) => ({ value }),
    (e: unknown) => {
      const error = ConnectError.from(e);
      return { code: error.code, message: error.rawMessage, metadata: withoutDate(error.metadata) };
    },
  );
  return { outcome, header, trailer };
}

describe.each([
  ["connect", (baseUrl: string) => createConnectTransport({ baseUrl, useBinaryFormat: true })],
  ["grpc-web", (baseUrl: string) => createGrpcWebTransport({ baseUrl })],
] as const)("the weather client's %s transport answers as connect-web's does", (kind, connectWeb: (baseUrl: string) => Transport) => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let ours: ReturnType<typeof createClient<typeof WeatherService>>;
  let theirs: ReturnType<typeof createClient<typeof WeatherService>>;
  beforeAll(async () => {
    // Time stands still on this server: both transports' calls get the same reading.
    server = await startServer({ tickMs: TICK_MS, clock: createFakeClock(1_800_000_000_000) });
    ours = createClient(WeatherService, createFetchTransport(kind, settings(server.url)));
    theirs = createClient(WeatherService, connectWeb(server.url));
  });
  afterAll(() => server.close());

  it("unary: the same reading, headers and trailers; the same error for bad input", async () => {
    for (const cityCode of ["NYC", "", "NOWHERE"]) {
      const [a, b] = [await observe((o) => ours.getWeather({ cityCode }, o)), await observe((o) => theirs.getWeather({ cityCode }, o))];
      expect(a, cityCode).toEqual(b);
      expect(a.outcome, cityCode).toHaveProperty(cityCode === "NYC" ? "value" : "code");
      if (cityCode === "NYC") expect(a.header).toHaveProperty("content-type");
    }
  });

  it("server streaming: the same error before the first message, with the same metadata", async () => {
    const first = (client: typeof ours) => async (o: { onHeader: (h: Headers) => void; onTrailer: (t: Headers) => void }) => {
      for await (const r of client.subscribeWeather({ cityCode: "NOWHERE" }, o)) return r;
      return undefined;
    };
    const [a, b] = [await observe(first(ours)), await observe(first(theirs))];
    expect(a.outcome).toMatchObject({ code: Code.InvalidArgument });
    expect(a).toEqual(b);
  });

  it("client streaming is refused at once with a ConnectError", async () => {
    const error = await rejection(ours.reportBatch((async function* () {})()));
    expect(error).toBeInstanceOf(ConnectError);
  });
});
