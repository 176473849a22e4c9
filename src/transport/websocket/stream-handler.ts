import type { ConnectError } from "@connectrpc/connect";

/**
 * Receives what the server sends on one tunnel stream. Called synchronously
 * from the WebSocket's message event: the hot path allocates nothing per
 * message beyond what the handler itself does.
 */
export interface StreamHandler {
  /**
   * Response headers; at most once, before any message, and maybe not at all
   * when there are none. Undefined stands for none: most calls never look at
   * them, so none is built for them.
   */
  onHeaders(headers: Headers | undefined): void;
  /**
   * One response message: its serialized bytes are `buf[start, end)`. The
   * buffer is never reused, so a handler may keep a view of it for later.
   * Return its credit with {@link ClientTunnelStream.consumed} once the message is used.
   */
  onMessage(buf: Uint8Array, start: number, end: number): void;
  /** The stream is over: `error` is undefined on success; `trailers` undefined when there are none. Called exactly once, unless the caller cancelled. */
  onEnd(error: ConnectError | undefined, trailers: Headers | undefined): void;
}

/** The caller's side of one stream on the tunnel. */
export interface ClientTunnelStream {
  readonly id: number;
  /**
   * Sends one serialized request message. Respect {@link ClientTunnelStream.writable}:
   * sending while it is false overdraws the stream's credit.
   */
  send(message: Uint8Array): void;
  /** False while the server's credit for this stream is used up; see {@link ClientTunnelStream.whenWritable}. */
  readonly writable: boolean;
  /** Resolves when {@link ClientTunnelStream.writable} is true again, or the stream ended. */
  whenWritable(): Promise<void>;
  /** No more request messages. */
  halfClose(): void;
  /** Abandons the stream: the server stops the call; no further callbacks arrive. */
  cancel(): void;
  /**
   * Returns credit for delivered messages so the server may send more:
   * `messageBytes` is the sum of their payload sizes, `messages` how many.
   */
  consumed(messageBytes: number, messages?: number): void;
}
