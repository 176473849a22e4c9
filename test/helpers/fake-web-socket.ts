import { type ControlFrame, decodeFrameBatch, encodeFrameBatch, type Frame, TUNNEL_SUBPROTOCOL } from "../../src/codec/tunnel/index.js";
import type { WebSocketConstructor, WebSocketLike } from "../../src/transport/websocket/web-socket-like.js";

/** A frame as the fake server saw it: data frames as their bytes. */
export type SeenFrame = ControlFrame | { kind: "data"; streamId: number; bytes: Uint8Array };

/**
 * An in-memory WebSocket for unit tests of the tunnel client: the test plays
 * the server, with frames encoded by the real codec.
 */
export class FakeWebSocket implements WebSocketLike {
  binaryType = "blob";
  readyState = 0;
  protocol = "";
  onopen: ((event: object) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: object) => void) | null = null;
  /** Every WebSocket message the client sent, decoded. */
  readonly sent: SeenFrame[][] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;

  constructor(
    readonly url: string,
    readonly protocols: string | string[] | undefined,
  ) {}

  send(data: Uint8Array): void {
    const frames: SeenFrame[] = [];
    decodeFrameBatch(data, {
      data: (streamId, buf, start, end) => frames.push({ kind: "data", streamId, bytes: buf.slice(start, end) }),
      control: (frame) => frames.push(frame),
    });
    this.sent.push(frames);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  /** Server side: accept the upgrade. */
  accept(protocol = TUNNEL_SUBPROTOCOL): void {
    this.readyState = 1;
    this.protocol = protocol;
    this.onopen?.({});
  }

  /** Server side: send one batch. */
  deliver(frames: Frame[]): void {
    const bytes = encodeFrameBatch(frames);
    this.deliverRaw(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  deliverRaw(data: unknown): void {
    this.onmessage?.({ data });
  }

  /** Server side (or network): the connection closes. */
  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** All frames sent so far, flattened. */
  get frames(): SeenFrame[] {
    return this.sent.flat();
  }
}

/** A WebSocket constructor that records every socket it makes. */
export function fakeWebSocketFactory(): { webSocket: WebSocketConstructor; sockets: FakeWebSocket[] } {
  const sockets: FakeWebSocket[] = [];
  class Recorded extends FakeWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { webSocket: Recorded, sockets };
}

/** Resolves after pending microtasks (the client flushes frames in a microtask). */
export function microtasks(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
