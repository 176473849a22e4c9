import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The `cause` of the `Unavailable` error a call gets when its transport never
 * opened: a WebSocket upgrade that was refused or blocked, a fetch that failed
 * before any response, or a response that is not the protocol's (a proxy's
 * error page). A caller choosing between transports falls back on exactly this.
 */
export class TransportOpenError extends Error {
  override readonly name = "TransportOpenError";
}

/** An `Unavailable` ConnectError whose cause is a {@link TransportOpenError}. */
export function transportOpenFailure(message: string): ConnectError {
  return new ConnectError(message, Code.Unavailable, undefined, undefined, new TransportOpenError(message));
}

/** True when `error` says the transport never opened (see {@link TransportOpenError}). */
export function isTransportOpenFailure(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.Unavailable && error.cause instanceof TransportOpenError;
}
