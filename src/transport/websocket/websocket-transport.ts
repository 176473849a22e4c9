import {
  type DescMessage,
  type DescMethodStreaming,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type StreamResponse, type Transport, type UnaryResponse } from "@connectrpc/connect";
import { runStreamingCall, runUnaryCall } from "@connectrpc/connect/protocol";
import { requestCommon } from "../request-common.js";
import { StreamCall } from "./calls.js";
import { type ResolvedOptions, resolveOptions, type WebSocketTransportOptions } from "./options.js";
import type { ClientTunnelStream } from "./stream-handler.js";
import { createTunnelClient, type TunnelClient } from "./tunnel-client.js";
import {
  callUnaryOnTunnel,
  serializeForTunnel,
  type TunnelUnaryResult,
  tunnelRequestHeaders,
  unaryResultOnTunnel,
} from "./tunnel-unary.js";

/** A connect `Transport` over the WebSocket tunnel, plus a way to close its connection. */
export interface WebSocketTransport extends Transport {
  /** Closes the shared WebSocket now; open calls fail with `Canceled`. New calls reconnect. */
  close(): void;
}

/**
 * Creates a connect `Transport` that carries every call mode — unary, server,
 * client and bidi streaming — over one lazily opened, shared WebSocket
 * (see PROTOCOL.md). Works with `createClient` for any protobuf-es service.
 *
 * Calls fail with `Unavailable` when the connection is lost (and the error's
 * `cause` is a `TransportOpenError` when it never opened); `signal` cancels one
 * call, `timeoutMs` is a deadline enforced on both ends.
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): WebSocketTransport {
  const resolved = resolveOptions(options);
  return createTransportOnTunnel(createTunnelClient(resolved), resolved);
}

/** @internal The transport over an existing tunnel client, which the subscription API shares. */
export function createTransportOnTunnel(tunnel: TunnelClient, options: ResolvedOptions): WebSocketTransport {
  const { interceptors, httpBaseUrl, writeMaxBytes, receiveWindowBytes } = options;

  const serialize = <I extends DescMessage>(schema: I, message: MessageShape<I>): Uint8Array =>
    serializeForTunnel(schema, message, writeMaxBytes);
  const requestHeaders = tunnelRequestHeaders;

  return {
    close: () => tunnel.close(),

    unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      message: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      if (interceptors.length === 0) {
        // Nothing to intercept: connect's runUnaryCall would only add linked signals and copies around the call.
        return unaryResultOnTunnel(tunnel, options, method, message, { signal, timeoutMs, headers: header }).then((r) =>
          unaryResponse(method, r),
        );
      }
      return runUnaryCall<I, O>({
        interceptors,
        signal,
        timeoutMs,
        req: {
          ...requestCommon(method, `${httpBaseUrl}/${method.parent.typeName}/${method.name}`, new Headers(header), contextValues),
          stream: false,
          message,
        },
        next: async (req) => {
          const bytes = serialize(method.input, req.message);
          const r = await callUnaryOnTunnel(tunnel, method, bytes, requestHeaders(req.header, timeoutMs), req.signal);
          return unaryResponse(method, r);
        },
      });
    },

    stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: ContextValues,
    ): Promise<StreamResponse<I, O>> {
      return runStreamingCall<I, O>({
        interceptors,
        signal,
        timeoutMs,
        req: {
          ...requestCommon(method, `${httpBaseUrl}/${method.parent.typeName}/${method.name}`, new Headers(header), contextValues),
          stream: true,
          message: input,
        },
        next: async (req) => {
          const call = new StreamCall<I, O>(method);
          const path = `/${method.parent.typeName}/${method.name}`;
          const headers = requestHeaders(req.header, timeoutMs);
          let stream: ClientTunnelStream;
          if (method.methodKind === "server_streaming") {
            // One request message: read it first so open, data and half_close share one WebSocket message.
            const bytes = await singleRequest(method.input, req.message, serialize);
            stream = tunnel.openStream(path, headers, call, receiveWindowBytes);
            call.stream = stream;
            stream.send(bytes);
            stream.halfClose();
          } else {
            stream = tunnel.openStream(path, headers, call, receiveWindowBytes);
            call.stream = stream;
            void pumpRequests(method.input, req.message, stream, call, serialize);
          }
          const onAbort = () => {
            if (call.isEnded()) return;
            stream.cancel();
            call.end(ConnectError.from(req.signal.reason, Code.Canceled));
          };
          if (req.signal.aborted) onAbort();
          else req.signal.addEventListener("abort", onAbort, { once: true });
          const responseHeader = await call.header;
          return {
            stream: true,
            service: method.parent,
            method,
            header: responseHeader,
            trailer: call.trailer,
            message: call,
          };
        },
      });
    },
  };
}

async function singleRequest<I extends DescMessage>(
  schema: I,
  input: AsyncIterable<MessageShape<I>>,
  serialize: (schema: I, message: MessageShape<I>) => Uint8Array,
): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined;
  for await (const message of input) {
    if (bytes !== undefined) throw new ConnectError("a server-streaming call takes exactly one request message", Code.InvalidArgument);
    bytes = serialize(schema, message);
  }
  if (bytes === undefined) throw new ConnectError("a server-streaming call takes exactly one request message", Code.InvalidArgument);
  return bytes;
}

/** Sends request messages as the server grants credit, then half-closes; a failing input fails the call. */
async function pumpRequests<I extends DescMessage, O extends DescMessage>(
  schema: I,
  input: AsyncIterable<MessageShape<I>>,
  stream: ClientTunnelStream,
  call: StreamCall<I, O>,
  serialize: (schema: I, message: MessageShape<I>) => Uint8Array,
): Promise<void> {
  try {
    for await (const message of input) {
      if (call.isEnded()) return;
      if (!stream.writable) await stream.whenWritable();
      if (call.isEnded()) return;
      stream.send(serialize(schema, message));
    }
    if (!call.isEnded()) stream.halfClose();
  } catch (e) {
    if (call.isEnded()) return;
    stream.cancel();
    call.end(ConnectError.from(e));
  }
}

/** The transport's answer to a unary call (its headers and trailers read from the tunnel's answer now). */
function unaryResponse<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  r: TunnelUnaryResult<O>,
): UnaryResponse<I, O> {
  return { stream: false, service: method.parent, method, header: r.header, message: r.message, trailer: r.trailer };
}
