import { create, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { UnaryCall } from "./calls.js";
import { wasNotProcessed } from "./client-tunnel.js";
import type { HeaderList } from "../../codec/tunnel/index.js";
import type { HeadersInput } from "../../fetch-types.js";
import { type ResolvedOptions, toHeaderList } from "./options.js";
import type { TunnelClient } from "./tunnel-client.js";

/** Per-call options of {@link unaryOnTunnel}, as connect's `CallOptions` has them. */
export interface TunnelUnaryOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly headers?: HeadersInput;
  readonly onHeader?: (headers: Headers) => void;
  readonly onTrailer?: (trailers: Headers) => void;
}

/** `message` in binary, refused with `ResourceExhausted` past `writeMaxBytes` (as the Transport does). */
export function serializeForTunnel<I extends DescMessage>(schema: I, message: MessageShape<I>, writeMaxBytes: number): Uint8Array {
  const bytes = toBinary(schema, message);
  if (bytes.length > writeMaxBytes) {
    throw new ConnectError(`message size ${bytes.length} is larger than configured writeMaxBytes ${writeMaxBytes}`, Code.ResourceExhausted);
  }
  return bytes;
}

/** Request headers as a tunnel `open` frame carries them, with the deadline for the server. */
export function tunnelRequestHeaders(header: Headers, timeoutMs: number | undefined): HeaderList {
  if (timeoutMs !== undefined && timeoutMs > 0) header.set("connect-timeout-ms", String(Math.ceil(timeoutMs)));
  return toHeaderList(header);
}

/** A unary call's answer: response headers, the message, trailers. */
export interface TunnelUnaryResult<O extends DescMessage> {
  readonly header: Headers;
  readonly message: MessageShape<O>;
  readonly trailer: Headers;
}

/**
 * One unary call on a tunnel stream, shared by the Transport and the fast
 * path: `bytes` (the serialized request) and `headers` go out in one batch;
 * when `signal` aborts first the stream is cancelled and the call fails with
 * the signal's reason (`Canceled` unless it is a `ConnectError`). A call the
 * server did not process before it went away (PROTOCOL.md §1.8) is sent once
 * more, on a new connection: the whole request is at hand, and it had no
 * effect.
 */
export function callUnaryOnTunnel<I extends DescMessage, O extends DescMessage>(
  tunnel: TunnelClient,
  method: DescMethodUnary<I, O>,
  bytes: Uint8Array,
  headers: HeaderList,
  signal: AbortSignal | undefined,
): Promise<TunnelUnaryResult<O>> {
  return new Promise<TunnelUnaryResult<O>>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(ConnectError.from(signal.reason, Code.Canceled));
      return;
    }
    const path = `/${method.parent.typeName}/${method.name}`;
    let resent = false;
    const onAbort = () => {
      stream.cancel();
      reject(ConnectError.from(signal?.reason, Code.Canceled));
    };
    const call = new UnaryCall<I, O>(
      method,
      (r) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(r);
      },
      (e) => {
        if (!resent && wasNotProcessed(e)) {
          // Nothing arrived for the refused stream, so the call starts afresh.
          resent = true;
          stream = tunnel.openStream(path, headers, call);
          call.stream = stream;
          stream.send(bytes);
          stream.halfClose();
          return;
        }
        signal?.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
    let stream = tunnel.openStream(path, headers, call);
    call.stream = stream;
    stream.send(bytes);
    stream.halfClose();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A unary call straight on the tunnel core, for callers with no interceptor
 * to apply: what connect's `runUnaryCall` does around the tunnel call,
 * without its linked signals and copies. Same errors: `Canceled` when
 * `signal` aborts, `DeadlineExceeded` after `timeoutMs` (also sent to the
 * server; 0 or less has passed already, as in connect), the server's status
 * otherwise. Not an async function: a call without a deadline is one promise
 * from the stream's end to the caller.
 */
export function unaryResultOnTunnel<I extends DescMessage, O extends DescMessage>(
  tunnel: TunnelClient,
  options: ResolvedOptions,
  method: DescMethodUnary<I, O>,
  message: MessageInitShape<I>,
  call: Pick<TunnelUnaryOptions, "signal" | "timeoutMs" | "headers">,
): Promise<TunnelUnaryResult<O>> {
  const { timeoutMs } = call;
  let bytes: Uint8Array;
  let headers: HeaderList;
  try {
    // As with connect: a message that does not fit its schema fails as it is, one that does not serialize as a ConnectError.
    const request = create(method.input, message);
    if (timeoutMs !== undefined && timeoutMs <= 0) throw deadlineExceeded();
    try {
      bytes = serializeForTunnel(method.input, request, options.writeMaxBytes);
    } catch (e) {
      throw ConnectError.from(e);
    }
    headers =
      call.headers === undefined && timeoutMs === undefined ? NO_HEADERS : tunnelRequestHeaders(new Headers(call.headers), timeoutMs);
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : ConnectError.from(e));
  }
  if (timeoutMs === undefined) return callUnaryOnTunnel(tunnel, method, bytes, headers, call.signal);
  // The deadline aborts the call with DeadlineExceeded, as connect's runUnaryCall does.
  const deadline = new AbortController();
  const timer = options.clock.setTimeout(() => deadline.abort(deadlineExceeded()), timeoutMs);
  const signal = call.signal === undefined ? deadline.signal : AbortSignal.any([call.signal, deadline.signal]);
  return callUnaryOnTunnel(tunnel, method, bytes, headers, signal).then(
    (r) => {
      options.clock.clearTimeout(timer);
      return r;
    },
    (e: unknown) => {
      options.clock.clearTimeout(timer);
      throw e;
    },
  );
}

/** {@link unaryResultOnTunnel}, answering with the message and handing headers and trailers to the callbacks. */
export function unaryOnTunnel<I extends DescMessage, O extends DescMessage>(
  tunnel: TunnelClient,
  options: ResolvedOptions,
  method: DescMethodUnary<I, O>,
  message: MessageInitShape<I>,
  call: TunnelUnaryOptions,
): Promise<MessageShape<O>> {
  const { onHeader, onTrailer } = call;
  // Without a callback, `?.()` does not read its argument: no Headers is made.
  return unaryResultOnTunnel(tunnel, options, method, message, call).then((r) => {
    onHeader?.(r.header);
    onTrailer?.(r.trailer);
    return r.message;
  });
}

const NO_HEADERS: HeaderList = Object.freeze([]);

function deadlineExceeded(): ConnectError {
  return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}
