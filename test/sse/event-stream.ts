import { createParser } from "eventsource-parser";

/** One thing read from a `text/event-stream`: an event, a comment, or a retry hint. */
export type StreamItem =
  | { readonly kind: "event"; readonly event: string | undefined; readonly id: string | undefined; readonly data: string }
  | { readonly kind: "comment"; readonly text: string }
  | { readonly kind: "retry"; readonly ms: number };

/** A raw SSE response read item by item (test-side, independent of the SDK's decoder). */
export interface EventStream {
  readonly response: Response;
  /** The next item; `undefined` once the body ended. */
  next(): Promise<StreamItem | undefined>;
  /** Reads events (skipping comments and retry) until `count` arrived or the body ended. */
  events(count?: number): Promise<Extract<StreamItem, { kind: "event" }>[]>;
  /** Aborts the request. */
  close(): void;
}

/** Fetches `url` and reads the answer as an event stream. */
export async function openEventStream(url: string, init: RequestInit = {}): Promise<EventStream> {
  const abort = new AbortController();
  const response = await fetch(url, { ...init, signal: abort.signal });
  const items: StreamItem[] = [];
  const parser = createParser({
    onEvent: (e) => items.push({ kind: "event", event: e.event, id: e.id, data: e.data }),
    onComment: (text) => items.push({ kind: "comment", text }),
    onRetry: (ms) => items.push({ kind: "retry", ms }),
  });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let ended = reader === undefined;

  async function next(): Promise<StreamItem | undefined> {
    while (items.length === 0 && !ended && reader !== undefined) {
      const chunk = await reader.read();
      if (chunk.done) ended = true;
      else parser.feed(decoder.decode(chunk.value, { stream: true }));
    }
    return items.shift();
  }

  return {
    response,
    next,
    async events(count = Infinity) {
      const out: Extract<StreamItem, { kind: "event" }>[] = [];
      while (out.length < count) {
        const item = await next();
        if (item === undefined) break;
        if (item.kind === "event") out.push(item);
      }
      return out;
    },
    close: () => abort.abort(),
  };
}
