import type { ServerHttp2Session } from "node:http2";

interface Seen {
  /** Bytes read and written on the session's socket at the last check. */
  bytes: number;
  /** When those bytes last changed (performance.now()). */
  sinceMs: number;
}

/**
 * Closes HTTP/2 sessions that carry no bytes in either direction for
 * `idleMs`, with one timer for all of them that compares each socket's byte
 * counts every quarter of `idleMs`: a session goes between `idleMs` and
 * 1.25 × `idleMs` after its last byte.
 *
 * Node's `session.setTimeout` would do the same, but it refreshes a timer on
 * every frame read or written: with SSE over HTTP/2 that was about 0.8 µs of
 * a 4 µs event, per subscriber and reading.
 */
export class IdleSessions {
  private readonly seen = new Map<ServerHttp2Session, Seen>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly idleMs: number) {}

  /** Watches `session` until it closes. */
  add(session: ServerHttp2Session): void {
    this.seen.set(session, { bytes: bytesOf(session), sinceMs: performance.now() });
    session.once("close", () => {
      this.seen.delete(session);
      if (this.seen.size === 0) this.stop();
    });
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.check(), Math.max(1, this.idleMs / 4));
      this.timer.unref();
    }
  }

  /** Stops watching (the server is closing). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const now = performance.now();
    for (const [session, seen] of this.seen) {
      const bytes = bytesOf(session);
      if (bytes !== seen.bytes) {
        seen.bytes = bytes;
        seen.sinceMs = now;
      } else if (now - seen.sinceMs >= this.idleMs) {
        session.destroy();
      }
    }
  }
}

function bytesOf(session: ServerHttp2Session): number {
  const socket = session.socket;
  return socket.bytesRead + socket.bytesWritten;
}
