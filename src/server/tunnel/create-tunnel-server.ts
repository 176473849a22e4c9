import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { sleep } from "../../clock.js";
import { TUNNEL_SUBPROTOCOL } from "../../codec/tunnel/index.js";
import { isOriginAllowed } from "../cors.js";
import { resolveTunnelOptions, type TunnelServerOptions } from "./options.js";
import { serveTunnelConnection, type TunnelConnection } from "./tunnel-connection.js";

/** The server side of the WebSocket tunnel, attached to an HTTP server's `upgrade` event. */
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
 * Creates the tunnel server (PROTOCOL.md §1): each stream is dispatched into
 * the router's universal handlers, the same that serve HTTP, or, for methods
 * of `direct` services, into the same implementation through connect's own
 * invocation; either way interceptors, limits and error codes are identical
 * on every transport.
 */
export function createTunnelServer(options: TunnelServerOptions): TunnelServer {
  const config = resolveTunnelOptions(options);
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: config.maxWebSocketMessageBytes,
    handleProtocols: (protocols) => (protocols.has(TUNNEL_SUBPROTOCOL) ? TUNNEL_SUBPROTOCOL : false),
  });
  const connections = new Set<TunnelConnection>();
  let closing: Promise<void> | undefined;

  async function shutDown(): Promise<void> {
    const open = [...connections];
    for (const connection of open) connection.goAway("the server is shutting down; reconnect to resume");
    if (open.length === 0) return;
    const allClosed = Promise.all(open.map((c) => c.closed));
    const grace = new AbortController();
    await Promise.race([allClosed, sleep(config.clock, config.closeTimeoutMs, grace.signal).catch(() => undefined)]);
    grace.abort();
    for (const connection of connections) connection.terminate();
    await allClosed;
  }

  const close = (): Promise<void> => (closing ??= shutDown());
  options.shutdownSignal?.addEventListener("abort", () => void close(), { once: true });

  return {
    handleUpgrade(req, socket, head) {
      const pathname = (req.url ?? "/").split("?", 1)[0];
      if (pathname !== config.path) return false;
      if (closing !== undefined) {
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
      const baseUrl = `http://${hostOf(req)}`;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const connection = serveTunnelConnection(ws, config, baseUrl);
        connections.add(connection);
        void connection.closed.then(() => connections.delete(connection));
        if (closing !== undefined) connection.goAway("the server is shutting down; reconnect to resume");
      });
      return true;
    },
    get connectionCount() {
      return connections.size;
    },
    close,
  };
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

/** The request's host for request URLs (connect parses them), or localhost when it is not a plain host. */
function hostOf(req: IncomingMessage): string {
  const host = req.headers.host;
  return host !== undefined && /^[\w.\-[\]:]+$/.test(host) ? host : "localhost";
}
