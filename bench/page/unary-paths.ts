import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { GetWeatherRequestSchema, type WeatherResponse, WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { alwaysActive, createWeatherClient, createWebSocketTransport } from "../../src/index.js";
import { createSseTransport } from "../../src/sse.js";
import { CITY, type UnaryRunParams } from "../shared.js";

type Call = () => Promise<WeatherResponse>;

/** The baseline: one request message, one answer, on an already open bare WebSocket. */
async function rawEcho(url: string): Promise<{ call: Call; close: () => void }> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`echo WebSocket ${url} did not open`));
  });
  const body = toBinary(GetWeatherRequestSchema, create(GetWeatherRequestSchema, { cityCode: CITY }));
  const request = new Uint8Array(5 + body.length);
  new DataView(request.buffer).setUint32(1, body.length);
  request.set(body, 5);
  let pending: ((m: WeatherResponse) => void) | undefined;
  ws.onmessage = (event: MessageEvent<ArrayBuffer>) => {
    const bytes = new Uint8Array(event.data);
    const length = new DataView(event.data).getUint32(1);
    const resolve = pending;
    pending = undefined;
    resolve?.(fromBinary(WeatherResponseSchema, bytes.subarray(5, 5 + length)));
  };
  return {
    call: () =>
      new Promise<WeatherResponse>((resolve) => {
        pending = resolve;
        ws.send(request);
      }),
    close: () => ws.close(),
  };
}

async function callFor(params: UnaryRunParams): Promise<{ call: Call; close: () => void }> {
  const { baseUrl } = params;
  const req = { cityCode: CITY };
  switch (params.path) {
    case "raw-ws-echo":
      return rawEcho(params.echoUrl);
    case "tunnel-client": {
      const transport = createWebSocketTransport({ url: `${baseUrl.replace(/^http/, "ws")}/ws` });
      const client = createClient(WeatherService, transport);
      return { call: () => client.getWeather(req), close: () => transport.close() };
    }
    case "weather-client-ws": {
      const weather = createWeatherClient({ baseUrl, transports: ["websocket"], lifecycle: alwaysActive });
      return { call: () => weather.getWeather(req), close: () => weather.close() };
    }
    case "connect-web": {
      const client = createClient(WeatherService, createConnectTransport({ baseUrl, useBinaryFormat: true }));
      return { call: () => client.getWeather(req), close: () => undefined };
    }
    case "grpc-web": {
      const client = createClient(WeatherService, createGrpcWebTransport({ baseUrl }));
      return { call: () => client.getWeather(req), close: () => undefined };
    }
    case "sse-client": {
      const client = createClient(WeatherService, createSseTransport({ baseUrl }));
      return { call: () => client.getWeather(req), close: () => undefined };
    }
  }
}

/** Sequential round trips: `warmup` unmeasured (opens connections), then `samples` timed ones. */
export async function runUnary(params: UnaryRunParams): Promise<number[]> {
  const { call, close } = await callFor(params);
  try {
    for (let i = 0; i < params.warmup; i++) await call();
    const times: number[] = [];
    for (let i = 0; i < params.samples; i++) {
      const t0 = performance.now();
      const m = await call();
      times.push(performance.now() - t0);
      if (m.description === "") throw new Error("empty reading");
    }
    return times;
  } finally {
    close();
  }
}

/**
 * Round trips of `params` and of the raw echo (`baseline`), alternating call
 * by call (which one goes first alternates too), so both see the same
 * machine: returns the times of each.
 */
export async function runUnaryPaired(params: UnaryRunParams, baseline: UnaryRunParams): Promise<{ path: number[]; raw: number[] }> {
  const subject = await callFor(params);
  const raw = await callFor(baseline);
  try {
    for (let i = 0; i < params.warmup; i++) {
      await subject.call();
      await raw.call();
    }
    const times = { path: [] as number[], raw: [] as number[] };
    const timed = async (c: { call: Call }, into: number[]) => {
      const t0 = performance.now();
      const m = await c.call();
      into.push(performance.now() - t0);
      if (m.description === "") throw new Error("empty reading");
    };
    for (let i = 0; i < params.samples; i++) {
      if (i % 2 === 0) {
        await timed(subject, times.path);
        await timed(raw, times.raw);
      } else {
        await timed(raw, times.raw);
        await timed(subject, times.path);
      }
    }
    return times;
  } finally {
    subject.close();
    raw.close();
  }
}
