import { Code, ConnectError } from "@connectrpc/connect";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { SSE_END_EVENT, SSE_RESUME_EVENT } from "./protocol.js";

/** Where a {@link SseDecoder} hands what it parsed. Called synchronously from `feed`. */
export interface SseDecoderCallbacks {
  /** A message event (no `event:` field, or `event: message`). */
  onMessage(data: string, id: string | undefined): void;
  /** The final status event; `data` is its JSON (see `parseSseStatus`). */
  onEnd(data: string): void;
  /** The resume event: `recovered` or `gap`. */
  onResume?(status: string): void;
}

/** Options of {@link createSseDecoder}. */
export interface SseDecoderOptions {
  /**
   * Longest event (all its lines, in UTF-16 code units) the decoder buffers.
   * Default 4 MiB worth of characters.
   */
  readonly maxEventChars?: number;
}

/** Turns `text/event-stream` text, in chunks of any size, into callbacks. */
export interface SseDecoder {
  /**
   * Parses the next chunk of text; callbacks run before it returns.
   * An exception thrown by a callback propagates out of `feed`.
   *
   * @throws ConnectError `resource_exhausted` when an event exceeds `maxEventChars`.
   */
  feed(text: string): void;
  /**
   * Tells the decoder the stream ended. A CR at the very end of the text is
   * only now known to be a whole line break (it was not the first half of a
   * CRLF), which may complete the last event. An event without its closing
   * blank line is dropped, as the standard says.
   */
  finish(): void;
}

/**
 * Creates a decoder on `eventsource-parser`'s callback API (its stream wrapper
 * costs a second async hop per chunk). Comments, `retry:` fields, unknown
 * fields and unknown event types are ignored, so servers may add new ones.
 */
export function createSseDecoder(callbacks: SseDecoderCallbacks, options: SseDecoderOptions = {}): SseDecoder {
  const maxEventChars = options.maxEventChars ?? 4 * 1024 * 1024;
  const state = { overflow: false };
  let endsWithCr = false;
  const parser = createParser({
    onEvent(event: EventSourceMessage) {
      switch (event.event) {
        case undefined:
        case "message":
          callbacks.onMessage(event.data, event.id);
          break;
        case SSE_END_EVENT:
          callbacks.onEnd(event.data);
          break;
        case SSE_RESUME_EVENT:
          callbacks.onResume?.(event.data);
          break;
      }
    },
    onError(error) {
      if (error.type === "max-buffer-size-exceeded") state.overflow = true;
    },
    maxBufferSize: maxEventChars,
  });
  function checkOverflow(): void {
    if (state.overflow) {
      throw new ConnectError(`an SSE event exceeded ${maxEventChars} characters`, Code.ResourceExhausted);
    }
  }
  return {
    feed(text) {
      if (text === "") return;
      checkOverflow();
      parser.feed(text);
      checkOverflow();
      endsWithCr = text.charCodeAt(text.length - 1) === 13;
    },
    finish() {
      if (endsWithCr) parser.feed("\n");
      endsWithCr = false;
    },
  };
}
