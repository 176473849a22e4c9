import { sleep } from "../../clock.js";
import { requestHost } from "../call/runtime.js";
import { CLOSE_CODE } from "./close-codes.js";
import { resolveTunnelOptions, type TunnelHandlerOptions } from "./options.js";
import { isOriginAllowed } from "./origins.js";
import { serveTunnelConnection, type TunnelConnection } from "./server-tunnel.js";
import type { TunnelSocket } from "./socket.js";

/** What the handler knows of the request that opened a socket. */
export interface TunnelPeer {
  /** The upgrade request's `Origin`, checked against `allowedOrigins`; absent for non-browser clients. */
  readonly origin?: string;
  /** The upgrade request's headers; `host` names the server in the URLs handlers see (`ctx.url`). */
  readonly headers?: Headers;
}

/**
 * The WebSocket tunnel (PROTOCOL.md §1) over sockets handed to it, in any
 * runtime: Node's `createTunnelServer` hands it `ws` sockets, a test or a
 * mock hands it one end of an in-memory pair.
 */
export interface TunnelHandler {
  /**
   * Serves the tunnel on an open socket whose subprotocol is
   * `weather-tunnel.v1` (the caller negotiated it). While shutting down, the
   * socket gets `go_away` and is closed with `1001`; an `origin` not allowed
   * closes it with `1008`.
   */
  handle(socket: TunnelSocket, peer?: TunnelPeer): void;
  /** Open tunnel connections. */
  readonly connectionCount: number;
  /** True once `close()` was called (or `shutdownSignal` aborted). */
  readonly closing: boolean;
  /**
   * Graceful shutdown (also started by `shutdownSignal`): on every connection
   * sends `go_away`, ends open streams with `Unavailable` and closes with
   * `1001`. Resolves when every socket is closed; sockets whose client has not
   * finished the closing handshake after `closeTimeoutMs` are cut.
   */
  close(): Promise<void>;
}

/**
 * Creates the runtime-neutral tunnel handler: each stream is dispatched into
 * the router's universal handlers, the same that serve HTTP, or, for methods
 * of `direct` services, into the same implementation through connect's own
 * invocation; either way interceptors, limits and error codes are identical
 * on every transport. Uses `clock` for its timers and no Node API.
 *
 * @example
 * const router = createConnectRouter();
 * router.service(WeatherService, impl);
 * const tunnel = createTunnelHandler({ handlers: router.handlers, direct: [directService(WeatherService, impl)] });
 * tunnel.handle(socket, { origin, headers });
 */
export function createTunnelHandler(options: TunnelHandlerOptions): TunnelHandler {
  const config = resolveTunnelOptions(options);
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
    handle(socket, peer = {}) {
      if (!isOriginAllowed(config.allowedOrigins, peer.origin)) {
        socket.close(CLOSE_CODE.policyViolation, "origin not in this server's allowedOrigins");
        return;
      }
      const connection = serveTunnelConnection(socket, config, `http://${requestHost(peer.headers)}`);
      connections.add(connection);
      void connection.closed.then(() => connections.delete(connection));
      if (closing !== undefined) connection.goAway("the server is shutting down; reconnect to resume");
    },
    get connectionCount() {
      return connections.size;
    },
    get closing() {
      return closing !== undefined;
    },
    close,
  };
}
