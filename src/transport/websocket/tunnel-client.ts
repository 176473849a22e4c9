import { Code, ConnectError } from "@connectrpc/connect";
import type { Clock } from "../../clock.js";
import type { HeaderList } from "../../codec/tunnel/index.js";
import type { StreamHandler, ClientTunnelStream } from "./stream-handler.js";
import { CLIENT_CLOSE, type ConnectionSettings, ClientTunnel } from "./client-tunnel.js";

/** What a {@link TunnelClient} needs; every field is already validated. */
export interface TunnelClientSettings extends Omit<ConnectionSettings, "onRetired" | "onIdle" | "helloHeaders"> {
  readonly idleCloseMs: number;
  /** Connection metadata for the `hello` frame (credentials); asked for on every new connection, may be async. */
  readonly helloHeaders: () => HeaderList | Promise<HeaderList>;
}

/**
 * The shared connection of one transport: opened lazily by the first stream,
 * replaced when it is lost or the server sends go_away, closed after
 * `idleCloseMs` without streams.
 */
export interface TunnelClient {
  /** Opens a stream on the current connection, connecting first if needed. */
  openStream(path: string, headers: HeaderList, handler: StreamHandler, initialWindow?: number): ClientTunnelStream;
  /** Closes the connection now; open streams fail with `Canceled`. */
  close(): void;
}

export function createTunnelClient(settings: TunnelClientSettings): TunnelClient {
  let current: ClientTunnel | undefined;
  const clock: Clock = settings.clock;
  // One idle timer, not one per call: a call that ends only notes the time,
  // and the timer, when it fires early, waits out the rest.
  let idleTimer: unknown;
  /** When the current connection's last stream ended; undefined while it has streams. */
  let idleSince: number | undefined;

  const stopIdleTimer = (): void => {
    if (idleTimer === undefined) return;
    clock.clearTimeout(idleTimer);
    idleTimer = undefined;
  };
  const onIdleTimer = (): void => {
    idleTimer = undefined;
    const c = current;
    // Busy again: the end of its last stream arms the timer anew.
    if (c === undefined || idleSince === undefined || c.openStreams > 0) return;
    const left = idleSince + settings.idleCloseMs - clock.now();
    if (left > 0) idleTimer = clock.setTimeout(onIdleTimer, left);
    else c.close(CLIENT_CLOSE.normal, new ConnectError("idle", Code.Canceled));
  };

  const connect = (): ClientTunnel => {
    const connection = new ClientTunnel({
      ...settings,
      helloHeaders: settings.helloHeaders(),
      onRetired: (c) => {
        if (current === c) {
          current = undefined;
          stopIdleTimer();
        }
      },
      onIdle: (c) => {
        if (current !== c) {
          // A retired connection closes once its last stream is done.
          c.close(CLIENT_CLOSE.normal, new ConnectError("connection retired", Code.Unavailable));
          return;
        }
        idleSince = clock.now();
        idleTimer ??= clock.setTimeout(onIdleTimer, settings.idleCloseMs);
      },
    });
    return connection;
  };

  return {
    openStream(path, headers, handler, initialWindow) {
      if (current === undefined || !current.accepting) current = connect();
      idleSince = undefined;
      return current.openStream(path, headers, handler, initialWindow);
    },
    close() {
      stopIdleTimer();
      current?.close(CLIENT_CLOSE.normal, new ConnectError("the transport was closed", Code.Canceled));
      current = undefined;
    },
  };
}
