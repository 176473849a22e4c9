import { create, type DescMessage, type DescMethodServerStreaming, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type ClientTunnelStream, type StreamHandler, toHeaderList, type TunnelClient } from "../transport/websocket/index.js";
import type { SourceHandle, SourceSink, StreamSource } from "./source.js";

/**
 * The fast path: a server stream read straight from the tunnel core. Each
 * message is decoded in the WebSocket's message event and handed to the sink
 * synchronously — no promise, no async iterator, no closure per message.
 */
export function createTunnelSource<I extends DescMessage, O extends DescMessage>(
  tunnel: TunnelClient,
  method: DescMethodServerStreaming<I, O>,
  receiveWindowBytes: number,
): StreamSource<I, O> {
  const path = `/${method.parent.typeName}/${method.name}`;
  return {
    transport: "websocket",
    open(request, header, sink) {
      const attempt = new TunnelAttempt(method, sink);
      const bytes = toBinary(method.input, create(method.input, request));
      const stream = tunnel.openStream(path, toHeaderList(header), attempt, receiveWindowBytes);
      attempt.stream = stream;
      stream.send(bytes);
      stream.halfClose();
      return attempt;
    },
  };
}

class TunnelAttempt<I extends DescMessage, O extends DescMessage> implements StreamHandler, SourceHandle {
  stream: ClientTunnelStream | undefined;
  private opened = false;
  private paused = false;
  private heldBytes = 0;
  private heldMessages = 0;

  constructor(
    private readonly method: DescMethodServerStreaming<I, O>,
    private readonly sink: SourceSink<MessageShape<O>>,
  ) {}

  onHeaders(headers: Headers | undefined): void {
    this.opened = true;
    this.sink.onOpen(headers ?? new Headers());
  }

  onMessage(buf: Uint8Array, start: number, end: number): void {
    if (!this.opened) this.onHeaders(undefined);
    let message: MessageShape<O>;
    try {
      message = fromBinary(this.method.output, buf.subarray(start, end));
    } catch (e) {
      this.stream?.cancel();
      this.sink.onEnd(
        new ConnectError(`failed to decode ${this.method.output.typeName}: ${String(e)}`, Code.Internal, undefined, undefined, e),
      );
      return;
    }
    if (this.paused) {
      this.heldBytes += end - start;
      this.heldMessages++;
    } else {
      this.stream?.consumed(end - start);
    }
    this.sink.onMessage(message);
  }

  onEnd(error: ConnectError | undefined): void {
    // A stream that ended well without headers or messages did open (PROTOCOL.md: no headers frame means none).
    if (error === undefined && !this.opened) this.onHeaders(undefined);
    this.sink.onEnd(error);
  }

  cancel(): void {
    this.stream?.cancel();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.heldMessages > 0) {
      this.stream?.consumed(this.heldBytes, this.heldMessages);
      this.heldBytes = 0;
      this.heldMessages = 0;
    }
  }
}
