// The transports over fetch, in a module of their own: createWeatherClient
// imports it dynamically, so bundlers put it (with connect-web, the SSE
// transport, eventsource-parser and protobuf-es's JSON code) in a chunk that
// loads only when a call first needs one of them.
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { createCheckedFetch, isConnectContentType, isGrpcWebContentType } from "./checked-fetch.js";
import { createSseTransport } from "./sse/create-sse-transport.js";

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
      return createConnectTransport({
        baseUrl,
        useBinaryFormat: true,
        interceptors,
        fetch: createCheckedFetch(fetch, "Connect", isConnectContentType),
      });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, interceptors, fetch: createCheckedFetch(fetch, "gRPC-Web", isGrpcWebContentType) });
    case "sse":
      return createSseTransport({ baseUrl: settings.sseBaseUrl, interceptors, fetch });
  }
}
