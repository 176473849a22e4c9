/** Stable codes for violations of the tunnel wire protocol. */
export type TunnelErrorCode =
  /** The bytes are not a well-formed FrameBatch / Frame. */
  | "malformed_frame"
  /** A frame is well-formed but not allowed here (wrong direction, stream 0 misuse, …). */
  | "unexpected_frame";

/** A violation of the tunnel protocol found while decoding; the connection cannot be trusted after it. */
export class TunnelProtocolError extends Error {
  override readonly name = "TunnelProtocolError";
  constructor(
    readonly code: TunnelErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A `malformed_frame` error: the bytes are not a FrameBatch. */
export function malformed(message: string): TunnelProtocolError {
  return new TunnelProtocolError("malformed_frame", message);
}
