// The transports over fetch, in a module of their own: createWeatherClient
// imports it dynamically, so bundlers put it (with the SSE transport,
// eventsource-parser and connect's Connect and gRPC-Web protocol code) in a
// chunk that loads only when a call first needs one of them.
//
// Every transport here carries binary protobuf only, and nothing in this
// module's graph references protobuf's JSON code (`fromJson`, `toJson`, ...):
// esbuild places every module that both the start and this chunk can reach in
// what loads at start, and protobuf's root barrel, which re-exports the JSON
// code, is reachable from the start through connect's `ConnectError`. Code
// that nothing uses is left out by every bundler, so the JSON code is in no
// chunk at all. (connect-web's transports pick JSON or binary at run time, so
// they would make it part of the app.)
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createCheckedFetch, isConnectContentType, isGrpcWebContentType } from "./checked-fetch.js";
import { createConnectFetchTransport } from "./fetch/connect-fetch.js";
import { createGrpcWebFetchTransport } from "./fetch/grpc-web-fetch.js";
import { binarySseFormat, createSseTransportWithFormat } from "./sse/sse-transport.js";

/** What the fetch transports of a weather client share. */
export interface FetchTransportSettings {
  readonly baseUrl: string;
  readonly sseBaseUrl: string;
  readonly interceptors: Interceptor[];
  readonly fetch: typeof globalThis.fetch;
}

/** The Connect, gRPC-Web or SSE transport of a weather client, with its fetch checked for a transport that never opened. */
export function createFetchTransport(kind: "connect" | "grpc-web" | "sse", settings: FetchTransportSettings): Transport {
  const { baseUrl, interceptors, fetch } = settings;
  switch (kind) {
    case "connect":
      return createConnectFetchTransport({ baseUrl, interceptors, fetch: createCheckedFetch(fetch, "Connect", isConnectContentType) });
    case "grpc-web":
      return createGrpcWebFetchTransport({ baseUrl, interceptors, fetch: createCheckedFetch(fetch, "gRPC-Web", isGrpcWebContentType) });
    case "sse":
      return createSseTransportWithFormat({ baseUrl: settings.sseBaseUrl, interceptors, fetch }, binarySseFormat());
  }
}
