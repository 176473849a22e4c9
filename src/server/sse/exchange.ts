import type { SharedSseText } from "./shared-text.js";

/**
 * One HTTP request to the SSE route, as the runtime-neutral route reads it;
 * the Node adapter and the fetch handler each make one.
 */
export interface SseExchange {
  /** `GET`, `POST`, … */
  readonly method: string;
  /** The request path, without the query. */
  readonly pathname: string;
  /** The request URL (the route reads its query). */
  readonly url: URL;
  /**
   * The request headers; may throw a `TypeError` for a field `Headers` does
   * not accept, which the route answers with `invalid_argument`.
   */
  header(): Headers;
  /**
   * The whole request body.
   * @throws ConnectError `resource_exhausted` once it exceeds `maxBytes`.
   */
  readBody(maxBytes: number): Promise<Uint8Array>;
}

/** Where the route writes its response: text in UTF-8, with back-pressure. */
export interface SseOutput {
  /** Sends the status line and headers; called once, before any `write`. */
  writeHead(status: number, headers: Readonly<Record<string, string>>): void;
  /** Queues text of the body; false when the buffer is full (wait for `onDrain`). */
  write(text: string): boolean;
  /**
   * Like `write(shared.text)`, for text many responses send: an output that
   * can write the shared bytes as they are saves encoding them per response.
   */
  writeShared?(shared: SharedSseText): boolean;
  /** Writes `text` and ends the response. */
  end(text: string): void;
  /**
   * Registers the writer's callbacks: `onDrain` when a full buffer emptied,
   * `onClose` when the response is over (ended, or the client went away).
   */
  listen(onDrain: () => void, onClose: () => void): void;
  /** False once nothing can be sent any more (the response started or the client is gone). */
  readonly canRespond: boolean;
}
