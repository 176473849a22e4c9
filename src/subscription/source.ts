import type { DescMessage, DescMethodServerStreaming, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import type { TransportKind } from "./state.js";

/** What a source reports about one attempt to stream. */
export interface SourceSink<O> {
  /** The stream is open: response headers arrived. */
  onOpen(header: Headers): void;
  /** One message, in order. Synchronous on the tunnel's fast path. */
  onMessage(message: O): void;
  /** The stream is over; `error` undefined means the server ended it cleanly. Called at most once. */
  onEnd(error: ConnectError | undefined): void;
}

/** Control over one attempt. */
export interface SourceHandle {
  /** Stops the attempt; no callback follows. */
  cancel(): void;
  /** Stops taking messages from the network (the transport's flow control holds the server back). */
  pause(): void;
  resume(): void;
}

/** A way to run one server-streaming call with callbacks: one per transport. */
export interface StreamSource<I extends DescMessage, O extends DescMessage> {
  readonly transport: TransportKind;
  open(request: MessageInitShape<I>, header: Headers, sink: SourceSink<MessageShape<O>>): SourceHandle;
}

/**
 * A source over any connect `Transport` (Connect, gRPC-Web, SSE, or the
 * WebSocket transport with interceptors): one `for await` loop per attempt.
 */
export function createTransportSource<I extends DescMessage, O extends DescMessage>(
  transportKind: TransportKind,
  transport: Transport,
  method: DescMethodServerStreaming<I, O>,
): StreamSource<I, O> {
  return {
    transport: transportKind,
    open(request, header, sink) {
      const abort = new AbortController();
      const gate = new Gate();
      const cancelled = () => abort.signal.aborted;
      void (async () => {
        let opened = false;
        try {
          const response = await transport.stream(method, abort.signal, undefined, header, createAsyncIterable([request]));
          if (cancelled()) return;
          opened = true;
          sink.onOpen(response.header);
          for await (const message of response.message) {
            await gate.passed();
            if (cancelled()) return;
            sink.onMessage(message);
          }
          if (!cancelled()) sink.onEnd(undefined);
        } catch (e) {
          if (!cancelled()) sink.onEnd(streamError(e, opened));
        }
      })();
      return {
        cancel: () => {
          abort.abort(new ConnectError("subscription attempt cancelled", Code.Canceled));
          gate.open();
        },
        pause: () => gate.close(),
        resume: () => gate.open(),
      };
    },
  };
}

/** Holds a loop while closed; passing an open gate costs no allocation. */
class Gate {
  private closed: { promise: Promise<void>; resolve: () => void } | undefined;

  passed(): Promise<void> | undefined {
    return this.closed?.promise;
  }

  close(): void {
    if (this.closed !== undefined) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.closed = { promise, resolve };
  }

  open(): void {
    const closed = this.closed;
    this.closed = undefined;
    closed?.resolve();
  }
}

/**
 * A stream that was open and then broke is a network failure, whatever the
 * HTTP transport called it (a cut body or one that ended without its
 * end-stream message surfaces as `Unknown` or `InvalidArgument`, depending on
 * the transport): report it as `Unavailable` so the subscription resumes.
 */
function streamError(e: unknown, opened: boolean): ConnectError {
  const error = ConnectError.from(e, Code.Unavailable);
  const cut = error.code === Code.Unknown || (error.code === Code.InvalidArgument && /missing EndStream/i.test(error.rawMessage));
  if (opened && cut) {
    return new ConnectError(`stream interrupted: ${error.rawMessage}`, Code.Unavailable, error.metadata, undefined, error);
  }
  return error;
}
