import type { ConnectError } from "@connectrpc/connect";

/** The transports a weather client can use; also what `state.transport` reports. */
export type TransportKind = "websocket" | "connect" | "grpc-web" | "sse";

/**
 * Where a subscription stands. Every change goes through one place and is
 * reported to `onState` listeners in order.
 */
export type SubscriptionState =
  /** Opening a stream (the first time, or again after `reconnecting`). */
  | { readonly kind: "connecting"; readonly transport: TransportKind; readonly attempt: number }
  /**
   * Receiving. `recovered` is false only after a reconnect whose resume could
   * not be honoured in full (the server's history no longer reached back to
   * the last reading delivered): readings were missed and the app should
   * refresh whatever it derived from them.
   */
  | { readonly kind: "open"; readonly transport: TransportKind; readonly since: number; readonly recovered: boolean }
  /**
   * Lost the stream and waiting to try again: after `delayMs`, or, when
   * `waitingFor` is set, until the browser is back online / the page is
   * visible again.
   */
  | {
      readonly kind: "reconnecting";
      readonly transport: TransportKind;
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: ConnectError;
      readonly waitingFor?: "online" | "visible";
    }
  /**
   * Over for good: `close()` or the signal (`reason: "closed"`), the server ended
   * the stream cleanly (`"completed"`), or an error that retrying cannot fix, or
   * the last allowed attempt failed (`"error"`, with `error`).
   */
  | { readonly kind: "closed"; readonly reason: "closed" | "completed" | "error"; readonly error?: ConnectError };
