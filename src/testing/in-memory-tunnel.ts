import { TUNNEL_SUBPROTOCOL } from "../codec/tunnel/index.js";
import type { TunnelHandler, TunnelMessageEvent, TunnelPeer, TunnelSocket } from "../server/core.js";
import type { WebSocketConstructor, WebSocketLike } from "../transport/websocket/index.js";

/** Options of {@link inMemoryWebSocket}. */
export interface InMemoryWebSocketOptions {
  /** The `Origin` the tunnel handler sees. Default none (a non-browser client). */
  readonly origin?: string;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
/** Close code of a connection that ended without a closing handshake. */
const ABNORMAL_CLOSURE = 1006;

/**
 * A WebSocket constructor whose sockets connect, in memory, to `tunnel` (the
 * runtime-neutral tunnel handler): the test double for transport tests, as
 * connect's `createRouterTransport` is for HTTP. Pass it as `webSocket` to
 * `createWebSocketTransport` or `createWeatherClient`; the URL's host becomes
 * the `host` the handler sees.
 *
 * Messages and closes are delivered in later tasks, as over a network:
 * each side sees the other's bytes only after its own code has returned.
 * Bytes are copied on send, so neither side sees the other reuse a buffer.
 *
 * @example
 * const router = createWeatherRouter();
 * const tunnel = createTunnelHandler({ handlers: router.handlers, direct: [router.direct] });
 * const client = createWeatherClient({ baseUrl: "http://mock", transports: ["websocket"], webSocket: inMemoryWebSocket(tunnel) });
 */
export function inMemoryWebSocket(tunnel: Pick<TunnelHandler, "handle">, options: InMemoryWebSocketOptions = {}): WebSocketConstructor {
  return class InMemoryClientSocket extends ClientEnd {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, tunnel, options);
    }
  };
}

/** Runs `task` in a later task of the event loop (message delivery, as over a network). */
function later(task: () => void): void {
  setTimeout(task, 0);
}

/** The client's end: what `createWebSocketTransport` holds. */
class ClientEnd implements WebSocketLike {
  binaryType = "blob";
  readyState = CONNECTING;
  protocol = "";
  onopen: ((event: object) => void) | null = null;
  onmessage: ((event: { readonly data: unknown }) => void) | null = null;
  onclose: ((event: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => void) | null = null;
  onerror: ((event: object) => void) | null = null;
  private server: ServerEnd | undefined;

  constructor(
    url: string,
    protocols: string | string[] | undefined,
    tunnel: Pick<TunnelHandler, "handle">,
    options: InMemoryWebSocketOptions,
  ) {
    const offered = protocols === undefined ? [] : typeof protocols === "string" ? [protocols] : protocols;
    later(() => {
      if (this.readyState !== CONNECTING) return;
      if (!offered.includes(TUNNEL_SUBPROTOCOL)) {
        // As a real server does: the upgrade is refused, which a browser sees as an error, then 1006.
        this.readyState = CLOSED;
        this.onerror?.({});
        this.onclose?.({ code: ABNORMAL_CLOSURE, reason: "", wasClean: false });
        return;
      }
      const server = new ServerEnd(this);
      this.server = server;
      this.protocol = TUNNEL_SUBPROTOCOL;
      this.readyState = OPEN;
      const peer: TunnelPeer = { origin: options.origin, headers: new Headers({ host: new URL(url).host }) };
      tunnel.handle(server, peer);
      this.onopen?.({});
    });
  }

  send(data: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    const copy = data.slice();
    const server = this.server;
    later(() => server?.receive(copy));
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState === CLOSING || this.readyState === CLOSED) return;
    const server = this.server;
    this.readyState = CLOSING;
    if (server === undefined) {
      this.closed(ABNORMAL_CLOSURE, "", false);
      return;
    }
    later(() => server.peerClosed(code, reason));
  }

  /** A binary message from the server. */
  receive(bytes: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    const data = this.binaryType === "arraybuffer" ? bytes.buffer : bytes;
    this.onmessage?.({ data });
  }

  /** The server started the closing handshake: answer it, and both ends are closed. */
  peerClosed(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.server?.closed();
    this.closed(code, reason, true);
  }

  closed(code: number, reason: string, wasClean: boolean): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.onclose?.({ code, reason, wasClean });
  }
}

/** The server's end: what the tunnel handler holds. */
class ServerEnd implements TunnelSocket {
  readyState = OPEN;
  readonly bufferedAmount = 0;
  onmessage: ((event: TunnelMessageEvent) => void) | null = null;
  onclose: (() => void) | null = null;

  constructor(private readonly client: ClientEnd) {}

  send(data: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    const copy = data.slice();
    later(() => this.client.receive(copy));
  }

  close(code: number, reason: string): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    later(() => this.client.peerClosed(code, reason));
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.closed();
    later(() => this.client.closed(ABNORMAL_CLOSURE, "", false));
  }

  receive(bytes: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    this.onmessage?.({ data: bytes });
  }

  /** The client started the closing handshake: both ends are closed. */
  peerClosed(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.closed();
    this.client.closed(code, reason, true);
  }

  closed(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.onclose?.();
  }
}
