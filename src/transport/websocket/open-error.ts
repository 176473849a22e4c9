import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The `cause` of the `Unavailable` error a call gets when the tunnel's
 * WebSocket never opened (blocked upgrade, proxy, refused origin, no server).
 * A caller choosing between transports falls back on exactly this.
 */
export class TunnelOpenError extends Error {
  override readonly name = "TunnelOpenError";
}

/** True when `error` says the WebSocket never opened (see {@link TunnelOpenError}). */
export function isTunnelOpenFailure(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.Unavailable && error.cause instanceof TunnelOpenError;
}
