import { Code, ConnectError } from "@connectrpc/connect";
import { getAbortSignalReason } from "@connectrpc/connect/protocol";
import { createSseDecoder } from "../../codec/sse/decoder.js";
import { parseSseStatus, type SseOutcome } from "../../codec/sse/status.js";

/** Options of {@link createSseMessageReader}. */
export interface SseMessageReaderOptions<T> {
  /** Turns the data of a message event into a message; throws on bad data. */
  readonly parse: (data: string) => T;
  /** Called with the data of a `resume` event (`recovered` or `gap`). */
  readonly onResume: (status: string) => void;
  /** The call's signal: once it aborted, read failures are its reason, not a cut. */
  readonly signal: AbortSignal;
  /** Longest event accepted, in characters. */
  readonly maxEventChars: number | undefined;
}

/** Pulls messages out of an SSE response body, one network chunk at a time. */
export interface SseMessageReader<T> {
  /**
   * The next message, or `done` after a clean `end` event. Reads from the
   * network only when every message of the last chunk was taken, so a slow
   * consumer holds the stream back instead of filling a queue.
   *
   * @throws ConnectError with the `end` event's error; `unavailable` when the
   *   stream ended or broke without an `end` event; the signal's reason once it aborted.
   */
  next(): Promise<IteratorResult<T, undefined>>;
  /** The call's trailers, filled in when the `end` event arrives. */
  readonly trailer: Headers;
  /** Stops reading and releases the connection. */
  cancel(): void;
}

/** Creates a reader over `body` (a `text/event-stream` in UTF-8). */
export function createSseMessageReader<T>(body: ReadableStream<Uint8Array>, options: SseMessageReaderOptions<T>): SseMessageReader<T> {
  const reader = body.getReader();
  const text = new TextDecoder();
  const trailer = new Headers();
  let queue: T[] = [];
  let head = 0;
  let outcome: SseOutcome | undefined;
  const decoder = createSseDecoder(
    {
      onMessage(data) {
        if (outcome === undefined) queue.push(options.parse(data));
      },
      onEnd(data) {
        if (outcome !== undefined) return;
        outcome = parseSseStatus(data);
        outcome.trailer.forEach((value, name) => trailer.append(name, value));
      },
      onResume: options.onResume,
    },
    { maxEventChars: options.maxEventChars },
  );

  function failure(cause: unknown): ConnectError {
    if (options.signal.aborted) return ConnectError.from(getAbortSignalReason(options.signal), Code.Canceled);
    if (cause instanceof ConnectError) return cause;
    return new ConnectError(
      "the SSE stream was cut before its end event; reconnect and resume with Last-Event-ID",
      Code.Unavailable,
      undefined,
      undefined,
      cause,
    );
  }

  async function fill(): Promise<void> {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw failure(e);
    }
    try {
      if (chunk.done) {
        decoder.feed(text.decode());
        decoder.finish();
      } else {
        decoder.feed(text.decode(chunk.value, { stream: true }));
      }
    } catch (e) {
      reader.cancel().catch(() => undefined);
      throw e instanceof ConnectError
        ? e
        : new ConnectError("the server sent a message that does not parse", Code.Internal, undefined, undefined, e);
    }
    if (chunk.done && outcome === undefined) throw failure(undefined);
    // The end event is the last: read the body to its end so the connection can be reused.
    if (outcome !== undefined && !chunk.done) drain();
  }

  function drain(): void {
    void (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        // Anything after the end event is ignored.
      }
    })().catch(() => undefined);
  }

  function next(): Promise<IteratorResult<T, undefined>> {
    if (head < queue.length) {
      const value = queue[head++] as T;
      if (head === queue.length) {
        queue = [];
        head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (outcome !== undefined) {
      return outcome.error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(outcome.error);
    }
    return fill().then(next);
  }

  return {
    next,
    trailer,
    cancel() {
      reader.cancel().catch(() => undefined);
    },
  };
}
