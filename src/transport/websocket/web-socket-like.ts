/**
 * The part of the WebSocket API the tunnel uses. The browser's `WebSocket`,
 * Node ≥ 22's global `WebSocket` and the `ws` package all fit.
 *
 * Handlers take `never`: each implementation types its own events, and the
 * tunnel only assigns handlers (reading `data` of a message event, `code` and
 * `reason` of a close event), so any of them is accepted as it is.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

/** What the tunnel reads from a message event. */
export interface MessageEventLike {
  readonly data: unknown;
}

/** What the tunnel reads from a close event. */
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/** A WebSocket constructor, e.g. `globalThis.WebSocket` or `ws`'s default export. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The global WebSocket constructor, if this runtime has one. */
export function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}
