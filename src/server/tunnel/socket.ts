/**
 * The part of a server-side WebSocket the tunnel handler uses, shaped like the
 * standard `WebSocket`: a browser or Deno `WebSocket` (with `binaryType`
 * `"arraybuffer"`), the `ws` adapter of `createTunnelServer`, or the
 * in-memory pair of `weather-sdk/testing` all fit.
 *
 * The handler assigns `onmessage` and `onclose` once and reads `data` of a
 * message event synchronously, keeping no reference to the event, so an
 * adapter may pass the same event object for every message.
 */
export interface TunnelSocket {
  /** 1 while open (`WebSocket.OPEN`); the handler sends nothing otherwise. */
  readonly readyState: number;
  /** Bytes queued by `send` and not yet written to the network. */
  readonly bufferedAmount: number;
  /** Sends one binary message. */
  send(data: Uint8Array): void;
  /** Starts the closing handshake with a close code and a reason of at most 123 UTF-8 bytes. */
  close(code: number, reason: string): void;
  /**
   * Cuts the connection without a closing handshake, where the runtime can
   * (the `ws` adapter can; a standard `WebSocket` cannot and leaves it out).
   */
  terminate?(): void;
  /** Set by the handler; `event.data` is an `ArrayBuffer` or a `Uint8Array` for binary messages, a string for text ones. */
  onmessage: ((event: never) => void) | null;
  /** Set by the handler; called once when the socket has closed (either side, any reason). */
  onclose: ((event: never) => void) | null;
}

/** What the handler reads from a message event. */
export interface TunnelMessageEvent {
  readonly data: unknown;
}

/** `readyState` of an open WebSocket. */
export const SOCKET_OPEN = 1;

/**
 * The bytes of a binary message, or undefined for anything else (text, or a
 * `Blob` from a socket whose `binaryType` is not `"arraybuffer"`).
 */
export function binaryMessage(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}
