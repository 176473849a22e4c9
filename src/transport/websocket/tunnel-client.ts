import { Code, ConnectError } from "@connectrpc/connect";
import type { Clock } from "../../clock.js";
import type { HeaderList } from "../../codec/tunnel/index.js";
import type { StreamHandler, TunnelStream } from "./stream-handler.js";
import { CLIENT_CLOSE, type ConnectionSettings, TunnelConnection } from "./tunnel-connection.js";

/** What a {@link TunnelClient} needs; every field is already validated. */
export interface TunnelClientSettings extends Omit<ConnectionSettings, "onRetired" | "onIdle" | "helloHeaders"> {
  readonly idleCloseMs: number;
  /** Connection metadata for the `hello` frame (credentials); asked for on every new connection. */
  readonly helloHeaders: () => HeaderList;
}

/**
 * The shared connection of one transport: opened lazily by the first stream,
 * replaced when it is lost or the server sends go_away, closed after
 * `idleCloseMs` without streams.
 */
export interface TunnelClient {
  /** Opens a stream on the current connection, connecting first if needed. */
  openStream(path: string, headers: HeaderList, handler: StreamHandler, initialWindow?: number): TunnelStream;
  /** Closes the connection now; open streams fail with `Canceled`. */
  close(): void;
}

export function createTunnelClient(settings: TunnelClientSettings): TunnelClient {
  let current: TunnelConnection | undefined;
  let idleTimer: unknown;
  const clock: Clock = settings.clock;

  const connect = (): TunnelConnection => {
    const connection = new TunnelConnection({
      ...settings,
      helloHeaders: settings.helloHeaders(),
      onRetired: (c) => {
        if (current === c) {
          current = undefined;
          clock.clearTimeout(idleTimer);
        }
      },
      onIdle: (c) => {
        if (current !== c) {
          // A retired connection closes once its last stream is done.
          c.close(CLIENT_CLOSE.normal, new ConnectError("connection retired", Code.Unavailable));
          return;
        }
        clock.clearTimeout(idleTimer);
        idleTimer = clock.setTimeout(() => {
          if (current === c && c.openStreams === 0) {
            c.close(CLIENT_CLOSE.normal, new ConnectError("idle", Code.Canceled));
          }
        }, settings.idleCloseMs);
      },
    });
    return connection;
  };

  return {
    openStream(path, headers, handler, initialWindow) {
      if (current === undefined || !current.accepting) current = connect();
      clock.clearTimeout(idleTimer);
      return current.openStream(path, headers, handler, initialWindow);
    },
    close() {
      clock.clearTimeout(idleTimer);
      current?.close(CLIENT_CLOSE.normal, new ConnectError("the transport was closed", Code.Canceled));
      current = undefined;
    },
  };
}
