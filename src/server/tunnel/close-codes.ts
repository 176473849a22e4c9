/** WebSocket close codes the tunnel server uses (PROTOCOL.md §1.9). */
export const CLOSE_CODE = {
  /** Going away: the server shuts down, after `go_away`. */
  goingAway: 1001,
  /** Protocol error: malformed batch, missing `hello`, an invalid or oversized `hello` header, stream id out of order. */
  protocolError: 1002,
  /** A text message was received. */
  unsupportedData: 1003,
  /** An `Origin` not in `allowedOrigins` (a socket handed to the handler; Node refuses the upgrade with 403 instead). */
  policyViolation: 1008,
  /** A WebSocket message over `maxWebSocketMessageBytes`. */
  messageTooBig: 1009,
  /** Internal error. */
  internalError: 1011,
  /** `hello` could not be checked now (`authenticate` failed with a code other than unauthenticated/permission denied): retry later. */
  tryAgainLater: 1013,
  /** Nothing received for `keepaliveTimeoutMs`. */
  keepaliveTimeout: 4000,
  /** The client does not read: its output stayed over `maxBufferedBytes` for `slowConsumerTimeoutMs`, or reached twice it. */
  slowConsumer: 4008,
  /** More frames or bytes arrived while `authenticate` ran for `hello` than the server holds (`maxPreAuthFrames`, `maxPreAuthBytes`). */
  tooMuchBeforeAuth: 4413,
  /** `hello` rejected: unauthenticated. */
  unauthenticated: 4401,
  /** `hello` rejected: permission denied. */
  permissionDenied: 4403,
} as const;

const MAX_REASON_BYTES = 123;
const utf8 = new TextEncoder();

/**
 * A close reason that fits a WebSocket close frame (123 bytes of UTF-8;
 * WebSocket implementations throw on longer ones), cut on a character boundary.
 */
export function closeReason(text: string): string {
  if (utf8.encode(text).length <= MAX_REASON_BYTES) return text;
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    const n = utf8.encode(ch).length;
    if (bytes + n > MAX_REASON_BYTES - 3) break;
    out += ch;
    bytes += n;
  }
  return `${out}...`;
}
