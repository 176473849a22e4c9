import { type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client, createClient } from "@connectrpc/connect";
import { createWritableIterable, type WritableIterable } from "@connectrpc/connect/protocol";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { expect } from "vitest";
import { type GetWeatherRequestSchema, type WeatherResponse, WeatherService } from "../../src/gen/weather_pb.js";
import { CITIES, type City, readingAt } from "../../src/simulation/index.js";

export type WeatherClient = Client<typeof WeatherService>;
export type HttpVersion = "1.1" | "2";

/** The three protocols connect-node speaks, by display name. gRPC is HTTP/2 only. */
export const PROTOCOLS = {
  Connect: createConnectTransport,
  gRPC: createGrpcTransport,
  "gRPC-Web": createGrpcWebTransport,
} as const;
export type ProtocolName = keyof typeof PROTOCOLS;
export const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as ProtocolName[];
/** The protocols connect-node can speak over HTTP/1.1. */
export const HTTP1_PROTOCOL_NAMES: readonly ProtocolName[] = ["Connect", "gRPC-Web"];

/**
 * A connect-node client for `baseUrl`. Over HTTP/2 it owns its session, so
 * `close()` really drops the connection (tests must not leak sockets).
 */
export function weatherClient(
  protocol: ProtocolName,
  baseUrl: string,
  httpVersion: HttpVersion,
): { client: WeatherClient; close: () => void } {
  const create = PROTOCOLS[protocol];
  if (httpVersion === "1.1") {
    // connect-node's gRPC transport silently uses HTTP/2 whatever httpVersion says.
    if (protocol === "gRPC") throw new Error("test bug: gRPC needs HTTP/2");
    return { client: createClient(WeatherService, create({ baseUrl, httpVersion })), close: () => undefined };
  }
  const sessionManager = new Http2SessionManager(baseUrl);
  return {
    client: createClient(WeatherService, create({ baseUrl, httpVersion, sessionManager })),
    close: () => sessionManager.abort(),
  };
}

export function city(code: string): City {
  const c = CITIES.get(code);
  if (c === undefined) throw new Error(`test bug: unknown city ${code}`);
  return c;
}

/** Asserts `reading` is exactly what the simulation gives for `c` at its timestamp's tick. */
export function expectReadingOf(reading: WeatherResponse, c: City, tickMs: number, extended = false): void {
  expect(reading.timestamp % BigInt(tickMs), "timestamp is aligned to a tick").toBe(0n);
  const expected = readingAt(c, Number(reading.timestamp) / tickMs, tickMs, extended);
  expect(reading).toEqual(expected);
}

/**
 * Reads the first `n` messages of a stream, then cancels it. The stream
 * factory receives the signal to pass to the call.
 */
export async function take<T>(n: number, open: (signal: AbortSignal) => AsyncIterable<T>): Promise<T[]> {
  const abort = new AbortController();
  const out: T[] = [];
  try {
    for await (const item of open(abort.signal)) {
      out.push(item);
      if (out.length === n) break;
    }
  } finally {
    abort.abort();
  }
  return out;
}

/** The `Code` a promise rejects with; fails the test when it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<Code> {
  try {
    await promise;
  } catch (e) {
    return ConnectError.from(e).code;
  }
  throw new Error("expected the call to fail");
}

/** The `Code` a stream ends with after reading it to the end; fails when it ends cleanly. */
export async function streamCodeOf(stream: AsyncIterable<unknown>): Promise<Code> {
  return codeOf(
    (async () => {
      for await (const _ of stream) {
        // drain
      }
    })(),
  );
}

type ChatRequest = MessageInitShape<typeof GetWeatherRequestSchema>;

/**
 * A bidi WeatherChat driven step by step: `send` a request, `next` a
 * response, `halfClose` the request side.
 */
export interface ChatSession {
  send(request: ChatRequest): void;
  next(): Promise<WeatherResponse>;
  halfClose(): void;
  /** Resolves when the response stream ends cleanly (rejects with its error otherwise). */
  end(): Promise<void>;
  /** Reads what is left until the stream ends cleanly (rejects with its error otherwise). */
  rest(): Promise<WeatherResponse[]>;
}

export function openChat(client: WeatherClient, signal?: AbortSignal): ChatSession {
  const requests: WritableIterable<ChatRequest> = createWritableIterable<ChatRequest>();
  const responses = client.weatherChat(requests, { signal })[Symbol.asyncIterator]();
  return {
    send(request) {
      // write() resolves once the transport took the message; never block on it,
      // the server only answers after reading it.
      requests.write(request).catch(() => undefined);
    },
    async next() {
      const r = await responses.next();
      if (r.done === true) throw new Error("WeatherChat ended early");
      return r.value;
    },
    halfClose() {
      requests.close();
    },
    async end() {
      const r = await responses.next();
      if (r.done !== true)
        throw new Error(`WeatherChat sent another message: ${JSON.stringify({ ...r.value, timestamp: String(r.value.timestamp) })}`);
    },
    async rest() {
      const left: WeatherResponse[] = [];
      for (let r = await responses.next(); r.done !== true; r = await responses.next()) left.push(r.value);
      return left;
    },
  };
}

export { Code };
