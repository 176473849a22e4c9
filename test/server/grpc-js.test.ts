// Interop: Google's @grpc/grpc-js, loading proto/weather.proto with
// @grpc/proto-loader, calls all four modes over h2c on the sniffing port.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../src/codec/resume.js";
import type { WeatherResponse } from "../../src/gen/weather_pb.js";
import { type City, readingAt, tickAt } from "../../src/simulation/index.js";
import { expectStrictlyIncreasing } from "../helpers/assertions.js";
import { city } from "../helpers/connect-node.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { startServer } from "../helpers/server.js";

/** Messages as proto-loader shapes them with `longs: String, defaults: true`. */
interface GrpcReading {
  temperature: number;
  humidity: number;
  description: string;
  timestamp: string;
}
interface GrpcRequest {
  cityCode: string;
  extended?: boolean;
}
interface WeatherStub extends grpc.Client {
  GetWeather(req: GrpcRequest, callback: grpc.requestCallback<GrpcReading>): grpc.ClientUnaryCall;
  SubscribeWeather(req: GrpcRequest, metadata?: grpc.Metadata): grpc.ClientReadableStream<GrpcReading>;
  ReportBatch(callback: grpc.requestCallback<GrpcReading>): grpc.ClientWritableStream<GrpcReading>;
  WeatherChat(): grpc.ClientDuplexStream<GrpcRequest, GrpcReading>;
}

const TICK_MS = 20;
const FAKE_TICK_MS = 1000;
const NYC = city("NYC");
const LON = city("LON");
const fakeClock = createFakeClock(1_795_000_000_000);

let live: Awaited<ReturnType<typeof startServer>>;
let fake: Awaited<ReturnType<typeof startServer>>;
let stub: WeatherStub;
let fakeStub: WeatherStub;

function loadStubConstructor(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(fileURLToPath(new URL("../../proto/weather.proto", import.meta.url)), {
    longs: String,
    defaults: true,
  });
  const weather = grpc.loadPackageDefinition(definition)["weather"] as grpc.GrpcObject;
  return weather["WeatherService"] as grpc.ServiceClientConstructor;
}

beforeAll(async () => {
  [live, fake] = await Promise.all([
    startServer({ tickMs: TICK_MS, maxReportBatch: 3 }),
    startServer({ tickMs: FAKE_TICK_MS, clock: fakeClock }),
  ]);
  const Stub = loadStubConstructor();
  const target = (url: string) => new URL(url).host;
  stub = new Stub(target(live.url), grpc.credentials.createInsecure()) as unknown as WeatherStub;
  fakeStub = new Stub(target(fake.url), grpc.credentials.createInsecure()) as unknown as WeatherStub;
});

afterAll(async () => {
  stub.close();
  fakeStub.close();
  await Promise.all([live.close(), fake.close()]);
});

function asGrpc(r: WeatherResponse): GrpcReading {
  return { temperature: r.temperature, humidity: r.humidity, description: r.description, timestamp: String(r.timestamp) };
}

function expected(c: City, reading: GrpcReading, tickMs: number, extended = false): GrpcReading {
  return asGrpc(readingAt(c, Number(reading.timestamp) / tickMs, tickMs, extended));
}

function unary(call: (callback: grpc.requestCallback<GrpcReading>) => unknown): Promise<GrpcReading> {
  return new Promise((resolve, reject) => {
    call((error, value) => {
      if (error !== null) reject(error);
      else if (value === undefined) reject(new Error("no response"));
      else resolve(value);
    });
  });
}

async function statusOf(promise: Promise<unknown>): Promise<grpc.status> {
  try {
    await promise;
  } catch (e) {
    return (e as grpc.ServiceError).code;
  }
  throw new Error("expected the call to fail");
}

/** Reads `n` messages of a server stream, then cancels it; also returns the response headers. */
function takeStream(
  call: grpc.ClientReadableStream<GrpcReading>,
  n: number,
): Promise<{ readings: GrpcReading[]; metadata: grpc.Metadata | undefined }> {
  return new Promise((resolve, reject) => {
    const readings: GrpcReading[] = [];
    let metadata: grpc.Metadata | undefined;
    call.on("metadata", (m) => (metadata = m));
    call.on("data", (r: GrpcReading) => {
      readings.push(r);
      if (readings.length === n) {
        call.cancel();
        resolve({ readings, metadata });
      }
    });
    call.on("error", (e: grpc.ServiceError) => {
      if (e.code !== grpc.status.CANCELLED) reject(e);
    });
  });
}

/** Reads one message from a duplex stream. */
function nextOf(call: grpc.ClientDuplexStream<GrpcRequest, GrpcReading>): Promise<GrpcReading> {
  return new Promise((resolve, reject) => {
    const onData = (r: GrpcReading) => {
      call.off("error", onError);
      call.pause();
      resolve(r);
    };
    const onError = (e: Error) => {
      call.off("data", onData);
      reject(e);
    };
    call.once("data", onData);
    call.once("error", onError);
    call.resume();
  });
}

describe("@grpc/grpc-js with @grpc/proto-loader", () => {
  it("calls GetWeather", async () => {
    const before = Date.now();
    const reading = await unary((cb) => stub.GetWeather({ cityCode: "NYC", extended: true }, cb));
    expect(reading).toEqual(expected(NYC, reading, TICK_MS, true));
    expect(Number(reading.timestamp)).toBeGreaterThanOrEqual(tickAt(before, TICK_MS) * TICK_MS);
  });

  it("streams SubscribeWeather, every tick in order", async () => {
    const { readings } = await takeStream(stub.SubscribeWeather({ cityCode: "LON" }), 4);
    for (const r of readings) expect(r).toEqual(expected(LON, r, TICK_MS));
    const timestamps = readings.map((r) => BigInt(r.timestamp));
    expectStrictlyIncreasing(timestamps);
    expect(timestamps.slice(1).map((t, i) => t - (timestamps[i] ?? 0n))).toEqual([20n, 20n, 20n]);
  });

  it("resumes SubscribeWeather from metadata and reads the resume status header", async () => {
    const metadata = new grpc.Metadata();
    const cursor = (tickAt(fakeClock.now(), FAKE_TICK_MS) - 3) * FAKE_TICK_MS;
    metadata.set(RESUME_AFTER_HEADER, String(cursor));
    const { readings, metadata: headers } = await takeStream(fakeStub.SubscribeWeather({ cityCode: "NYC" }, metadata), 3);
    expect(readings.map((r) => Number(r.timestamp))).toEqual([1, 2, 3].map((i) => cursor + i * FAKE_TICK_MS));
    for (const r of readings) expect(r).toEqual(expected(NYC, r, FAKE_TICK_MS));
    expect(headers?.get(RESUME_STATUS_HEADER)).toEqual(["recovered"]);
  });

  it("streams ReportBatch and gets the summary", async () => {
    const sent = [readingAt(NYC, 100, 1000), readingAt(LON, 102, 1000), readingAt(NYC, 101, 1000)];
    const summary = await unary((cb) => {
      const call = stub.ReportBatch(cb);
      for (const r of sent) call.write(asGrpc(r));
      call.end();
      return call;
    });
    expect(summary.description).toBe("3 readings");
    expect(summary.timestamp).toBe("102000");
    expect(summary.temperature).toBeCloseTo(sent.reduce((s, r) => s + r.temperature, 0) / 3, 10);
    expect(summary.humidity).toBeCloseTo(sent.reduce((s, r) => s + r.humidity, 0) / 3, 10);
  });

  it("chats over WeatherChat: an answer per request, then ticks for every city asked, then a clean end", async () => {
    const t0 = tickAt(fakeClock.now(), FAKE_TICK_MS);
    const call = fakeStub.WeatherChat();
    const at = (c: City, tick: number) => asGrpc(readingAt(c, tick, FAKE_TICK_MS));
    call.write({ cityCode: "NYC" });
    expect(await nextOf(call)).toEqual(at(NYC, t0));
    call.write({ cityCode: "LON" });
    expect(await nextOf(call)).toEqual(at(LON, t0));
    fakeClock.advance(FAKE_TICK_MS);
    expect(await nextOf(call)).toEqual(at(NYC, t0 + 1));
    expect(await nextOf(call)).toEqual(at(LON, t0 + 1));

    const status = new Promise<grpc.StatusObject>((resolve) => call.once("status", resolve));
    const ended = new Promise<void>((resolve) => call.once("end", resolve));
    call.end();
    call.resume();
    await ended;
    expect((await status).code).toBe(grpc.status.OK);
  });

  it("maps errors to gRPC status codes", async () => {
    expect(await statusOf(unary((cb) => stub.GetWeather({ cityCode: "XYZ" }, cb)))).toBe(grpc.status.INVALID_ARGUMENT);
    const details = await unary((cb) => stub.GetWeather({ cityCode: "" }, cb)).catch((e: unknown) => (e as grpc.ServiceError).details);
    expect(details).toContain("city_code is required");

    const subscribe = stub.SubscribeWeather({ cityCode: "XYZ" });
    expect(await statusOf(takeStream(subscribe, 1))).toBe(grpc.status.INVALID_ARGUMENT);

    const tooMany = unary((cb) => {
      const call = stub.ReportBatch(cb);
      for (let i = 0; i < 4; i++) call.write(asGrpc(readingAt(NYC, i, 1000)));
      call.end();
      return call;
    });
    expect(await statusOf(tooMany)).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const none = unary((cb) => {
      const call = stub.ReportBatch(cb);
      call.end();
      return call;
    });
    expect(await statusOf(none)).toBe(grpc.status.INVALID_ARGUMENT);
  });
});
