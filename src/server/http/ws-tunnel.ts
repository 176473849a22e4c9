import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { TUNNEL_SUBPROTOCOL } from "../../codec/tunnel/index.js";
import { resolveTunnelOptions, type TunnelServerOptions } from "../tunnel/options.js";
import { isOriginAllowed } from "../tunnel/origins.js";
import type { TunnelMessageEvent, TunnelSocket } from "../tunnel/socket.js";
import { createTunnelHandler } from "../tunnel/tunnel-handler.js";

/** The server side of the WebSocket tunnel, attached to a Node HTTP server's `upgrade` event. */
export interface TunnelServer {
  /**
   * Takes an HTTP upgrade request. Returns false when the request is not for
   * the tunnel's path (the caller answers it); otherwise answers it: `400`
   * without the `weather-tunnel.v1` subprotocol, `403` for an `Origin` not
   * allowed, `503` while shutting down, else the WebSocket handshake.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Open tunnel connections. */
  readonly connectionCount: number;
  /**
   * Graceful shutdown (also started by `shutdownSignal`): refuses new
   * upgrades; on every connection sends `go_away`, ends open streams with
   * `Unavailable` and closes with `1001`. Resolves when every socket is
   * closed; sockets whose client has not finished the closing handshake after
   * `closeTimeoutMs` are cut.
   */
  close(): Promise<void>;
}

/**
 * Creates the tunnel server for Node (PROTOCOL.md §1): `createTunnelHandler`
 * behind the `ws` package, which does the upgrade and enforces
 * `maxWebSocketMessageBytes` as its `maxPayload`.
 */
export function createTunnelServer(options: TunnelServerOptions): TunnelServer {
  const config = resolveTunnelOptions(options);
  const handler = createTunnelHandler(options);
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: config.maxWebSocketMessageBytes,
    handleProtocols: (protocols) => (protocols.has(TUNNEL_SUBPROTOCOL) ? TUNNEL_SUBPROTOCOL : false),
  });

  return {
    handleUpgrade(req, socket, head) {
      const pathname = (req.url ?? "/").split("?", 1)[0];
      if (pathname !== config.path) return false;
      if (handler.closing) {
        rejectUpgrade(socket, 503, "the server is shutting down; reconnect to another instance");
        return true;
      }
      if (!offeredSubprotocols(req).includes(TUNNEL_SUBPROTOCOL)) {
        rejectUpgrade(socket, 400, `offer the WebSocket subprotocol ${TUNNEL_SUBPROTOCOL} (Sec-WebSocket-Protocol)`);
        return true;
      }
      const origin = req.headers.origin;
      if (!isOriginAllowed(config.allowedOrigins, origin)) {
        rejectUpgrade(socket, 403, `origin ${origin ?? ""} is not in this server's allowedOrigins`);
        return true;
      }
      const host = req.headers.host;
      const headers = new Headers(host === undefined ? undefined : { host });
      wss.handleUpgrade(req, socket, head, (ws) => handler.handle(new WsTunnelSocket(ws), { origin, headers }));
      return true;
    },
    get connectionCount() {
      return handler.connectionCount;
    },
    close: () => handler.close(),
  };
}

/** A `ws` socket as a {@link TunnelSocket}; every message reuses one event object. */
class WsTunnelSocket implements TunnelSocket {
  onmessage: ((event: TunnelMessageEvent) => void) | null = null;
  onclose: (() => void) | null = null;
  private readonly event: { data: unknown } = { data: undefined };

  constructor(private readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    // ws closes the socket itself on invalid frames (1002, 1009 over maxPayload, …); "close" follows.
    ws.on("error", () => undefined);
    ws.on("close", () => this.onclose?.());
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(data: Uint8Array): void {
    this.ws.send(data, SEND_OPTIONS);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const event = this.event;
    event.data = isBinary ? toBytes(data) : "";
    this.onmessage?.(event);
    event.data = undefined;
  }
}

const SEND_OPTIONS = { binary: true } as const;

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/**
 * Answers an upgrade request with a plain HTTP error and closes the socket
 * (a browser sees a WebSocket that never opened).
 */
export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`;
  socket.once("finish", () => socket.destroy());
  socket.once("error", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "Connection: close\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function offeredSubprotocols(req: IncomingMessage): string[] {
  const header = req.headers["sec-websocket-protocol"];
  return header === undefined ? [] : header.split(",").map((p) => p.trim());
}
