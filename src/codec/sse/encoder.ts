/**
 * Pure text encoding of Server-Sent Events (WHATWG HTML, "Server-sent events").
 * Every function returns the exact text to append to a `text/event-stream`.
 */

/** Fields of one event; `data` may span lines. */
export interface SseEventFields {
  /** Event type; absent for plain messages (a browser `EventSource` fires `message`). */
  readonly event?: string | undefined;
  /** Becomes the client's last event ID: the resume cursor. */
  readonly id?: string | undefined;
  /** The payload. Line breaks (LF, CR or CRLF) become several `data:` lines. */
  readonly data: string;
}

const lineBreak = /\r\n|\r|\n/;

/**
 * Encodes one event: `event:`, `id:`, one `data:` line per line of `data`, and
 * the blank line that dispatches it. Fields come in that order so that a
 * parser sees the id and type before the data.
 *
 * @throws RangeError when `event` or `id` contains a line break, or `id` a NUL
 *   (the format cannot carry them; a client would drop such an id).
 */
export function encodeSseEvent(fields: SseEventFields): string {
  let text = "";
  if (fields.event !== undefined) text += `event: ${singleLine("event", fields.event)}\n`;
  if (fields.id !== undefined) {
    if (fields.id.includes("\0")) throw new RangeError("an SSE id cannot contain NUL");
    text += `id: ${singleLine("id", fields.id)}\n`;
  }
  const data = fields.data;
  if (data.indexOf("\n") === -1 && data.indexOf("\r") === -1) {
    return `${text}data: ${data}\n\n`;
  }
  for (const line of data.split(lineBreak)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/**
 * Encodes a comment (ignored by every client; used as a keepalive). Each line
 * of `text` becomes its own `:` line; a blank line follows.
 */
export function encodeSseComment(text: string): string {
  return `${text
    .split(lineBreak)
    .map((line) => (line === "" ? ":" : `: ${line}`))
    .join("\n")}\n\n`;
}

/**
 * Encodes a `retry:` field: how many milliseconds a standard `EventSource`
 * waits before it reconnects.
 *
 * @throws RangeError unless `retryMs` is a non-negative integer.
 */
export function encodeSseRetry(retryMs: number): string {
  if (!Number.isSafeInteger(retryMs) || retryMs < 0) {
    throw new RangeError(`retry must be a non-negative integer of milliseconds, got ${retryMs}`);
  }
  return `retry: ${retryMs}\n\n`;
}

function singleLine(name: string, value: string): string {
  if (value.indexOf("\n") !== -1 || value.indexOf("\r") !== -1) {
    throw new RangeError(`an SSE ${name} cannot contain a line break`);
  }
  return value;
}
