import { fromBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { RESUME_AFTER_HEADER } from "../../src/codec/resume.js";
import { type WeatherResponse, WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { alwaysActive, createWeatherClient, createWebSocketTransport } from "../../src/index.js";
import { createSseTransport } from "../../src/sse.js";
import { CITY, RAW_WS_PATH, type StreamRunParams, type StreamRunResult } from "../shared.js";

/** Counts messages and sums a field, so every path does the same (small) work per message. */
class Tally {
  n = 0;
  sum = 0;
  private readonly t0 = performance.now();
  constructor(readonly count: number) {}

  /** Returns true once `count` messages were seen. */
  add(m: WeatherResponse): boolean {
    this.sum += m.temperature;
    return ++this.n >= this.count;
  }

  result(): StreamRunResult {
    return { count: this.n, ms: performance.now() - this.t0, checksum: this.sum };
  }
}

const wsUrl = (baseUrl: string, path: string) => baseUrl.replace(/^http/, "ws") + path;

function resumeHeaders(params: StreamRunParams): Record<string, string> {
  return params.resumeAfter === undefined ? {} : { [RESUME_AFTER_HEADER]: params.resumeAfter };
}

/** The baseline: a bare WebSocket, envelopes split by hand, each decoded with fromBinary. */
function rawWs(params: StreamRunParams): Promise<StreamRunResult> {
  return new Promise((resolve, reject) => {
    const tally = new Tally(params.count);
    const ws = new WebSocket(wsUrl(params.baseUrl, RAW_WS_PATH));
    ws.binaryType = "arraybuffer";
    ws.onmessage = (event: MessageEvent<ArrayBuffer>) => {
      const data = event.data;
      const bytes = new Uint8Array(data);
      const view = new DataView(data);
      let pos = 0;
      while (pos < bytes.length) {
        const length = view.getUint32(pos + 1);
        const start = pos + 5;
        pos = start + length;
        if (tally.add(fromBinary(WeatherResponseSchema, bytes.subarray(start, pos)))) {
          ws.onmessage = null;
          ws.close();
          resolve(tally.result());
          return;
        }
      }
    };
    ws.onclose = () => reject(new Error(`raw WebSocket closed after ${tally.n} messages`));
  });
}

/**
 * Any connect Transport, through `createClient` and `for await`. Leaving the
 * loop does not cancel a connect call (its iterables have no `return`): the
 * signal does, or the HTTP connection stays busy and the 7th stream to the
 * origin stalls.
 */
async function viaClient(
  params: StreamRunParams,
  transport: Parameters<typeof createClient>[1],
  close?: () => void,
): Promise<StreamRunResult> {
  const tally = new Tally(params.count);
  const client = createClient(WeatherService, transport);
  const abort = new AbortController();
  try {
    for await (const m of client.subscribeWeather({ cityCode: CITY }, { headers: resumeHeaders(params), signal: abort.signal })) {
      if (tally.add(m)) break;
    }
  } finally {
    abort.abort();
    close?.();
  }
  return tally.result();
}

/** The subscription API of `createWeatherClient` on one transport. */
async function viaSubscription(
  params: StreamRunParams,
  transport: "websocket" | "sse",
  mode: "onMessage" | "forAwait",
): Promise<StreamRunResult> {
  const weather = createWeatherClient({
    baseUrl: params.baseUrl,
    transports: [transport],
    lifecycle: alwaysActive,
    headers: () => resumeHeaders(params),
    ...(params.windowBytes === undefined ? {} : { webSocketOptions: { receiveWindowBytes: params.windowBytes } }),
  });
  const tally = new Tally(params.count);
  const sub = weather.subscribeWeather({ cityCode: CITY });
  try {
    if (mode === "forAwait") {
      for await (const m of sub) {
        if (tally.add(m)) break;
      }
      return tally.result();
    }
    return await new Promise<StreamRunResult>((resolve, reject) => {
      sub.onMessage((m) => {
        if (tally.add(m)) {
          const result = tally.result();
          sub.close();
          resolve(result);
        }
      });
      sub.onState((s) => {
        if (s.kind === "closed" && tally.n < tally.count)
          reject(new Error(`subscription closed (${s.reason}) after ${tally.n}: ${String(s.error)}`));
        if (s.kind === "reconnecting") reject(new Error(`subscription lost its stream after ${tally.n}: ${String(s.error)}`));
      });
    });
  } finally {
    sub.close();
    weather.close();
  }
}

/** Runs one server stream of `params.count` messages on `params.path`. */
export function runStream(params: StreamRunParams): Promise<StreamRunResult> {
  const { baseUrl } = params;
  switch (params.path) {
    case "raw-ws":
      return rawWs(params);
    case "tunnel-client": {
      const transport = createWebSocketTransport({
        url: wsUrl(baseUrl, "/ws"),
        ...(params.windowBytes === undefined ? {} : { receiveWindowBytes: params.windowBytes }),
      });
      return viaClient(params, transport, () => transport.close());
    }
    case "sub-onmessage":
      return viaSubscription(params, "websocket", "onMessage");
    case "sub-forawait":
      return viaSubscription(params, "websocket", "forAwait");
    case "connect-web":
      return viaClient(params, createConnectTransport({ baseUrl, useBinaryFormat: true }));
    case "grpc-web":
      return viaClient(params, createGrpcWebTransport({ baseUrl }));
    case "sse-client":
      return viaClient(params, createSseTransport({ baseUrl }));
    case "sse-sub-onmessage":
      return viaSubscription(params, "sse", "onMessage");
  }
}
