import type { Clock } from "../../clock.js";
import { encodeSseComment, encodeSseRetry } from "../../codec/sse/encoder.js";
import { SSE_CONTENT_TYPE } from "../../codec/sse/protocol.js";
import { afterTurn } from "../call/runtime.js";
import type { SseOutput } from "./exchange.js";

/** Options of {@link createSseWriter}. */
export interface SseWriterOptions {
  readonly clock: Clock;
  /** A comment goes out when nothing else was written for this long. */
  readonly keepaliveMs: number;
  /** The `retry:` hint sent first. */
  readonly retryMs: number;
  /** Called once when the client goes away before the response ended. */
  readonly onClientGone: () => void;
}

/** Writes one `text/event-stream` response: batching, back-pressure, keepalive. */
export interface SseWriter {
  /** Sends status 200 with the SSE headers plus `headers`, then the `retry:` hint. Later calls do nothing. */
  open(headers?: Headers): void;
  /** Queues event text; everything queued in one turn of the event loop goes out in one write. */
  write(text: string): void;
  /** True while the socket's buffer is full: wait for {@link SseWriter.drained} before producing more. */
  readonly congested: boolean;
  /** Resolves when the buffer has drained or the client is gone. */
  drained(): Promise<void>;
  /** Writes `text` (opening first if needed), flushes, and ends the response. */
  end(text?: string): void;
  /** True once the response ended or the client went away: further writes are dropped. */
  readonly closed: boolean;
}

const flushNowChars = 64 * 1024;

/** Creates the writer and starts its keepalive timer (stopped by `end` or a disconnect). */
export function createSseWriter(out: SseOutput, options: SseWriterOptions): SseWriter {
  const { clock, keepaliveMs } = options;
  let opened = false;
  let pending = "";
  let flushScheduled = false;
  // `closed` and `congested` are plain properties of the writer, not getters:
  // V8 gives an object literal with getters a hidden class of its own, whose
  // closures keep each response's objects alive through young-generation GCs.
  const writer: { -readonly [K in keyof SseWriter]: SseWriter[K] } = {
    open,
    write,
    congested: false,
    drained,
    end,
    closed: false,
  };
  let wroteSinceKeepalive = false;
  let waiters: (() => void)[] = [];
  let timer: unknown = clock.setTimeout(keepalive, keepaliveMs);

  function keepalive(): void {
    timer = undefined;
    if (writer.closed) return;
    if (!wroteSinceKeepalive) {
      open();
      pending += encodeSseComment("keepalive");
      flush();
    }
    wroteSinceKeepalive = false;
    timer = clock.setTimeout(keepalive, keepaliveMs);
  }

  function open(headers?: Headers): void {
    if (opened || writer.closed) return;
    opened = true;
    const head: Record<string, string> = {};
    headers?.forEach((value, name) => (head[name] = value));
    head["content-type"] = SSE_CONTENT_TYPE;
    // no-transform: a compressing proxy would buffer the stream.
    head["cache-control"] = "no-cache, no-transform";
    head["x-accel-buffering"] = "no";
    out.writeHead(200, head);
    pending = encodeSseRetry(options.retryMs) + pending;
  }

  function flush(): void {
    flushScheduled = false;
    if (writer.closed || pending === "") return;
    open();
    const text = pending;
    pending = "";
    wroteSinceKeepalive = true;
    if (!out.write(text)) writer.congested = true;
  }

  function release(): void {
    const w = waiters;
    waiters = [];
    for (const fn of w) fn();
  }

  function stop(): void {
    writer.closed = true;
    writer.congested = false;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    release();
  }

  out.listen(
    () => {
      writer.congested = false;
      release();
    },
    () => {
      if (writer.closed) return;
      stop();
      options.onClientGone();
    },
  );

  function write(text: string): void {
    if (writer.closed) return;
    pending += text;
    if (pending.length >= flushNowChars) {
      flush();
    } else if (!flushScheduled) {
      flushScheduled = true;
      afterTurn(flush);
    }
  }

  function drained(): Promise<void> {
    if (!writer.congested) return Promise.resolve();
    return new Promise((resolve) => waiters.push(resolve));
  }

  function end(text = ""): void {
    if (writer.closed) return;
    open();
    pending += text;
    const rest = pending;
    pending = "";
    stop();
    out.end(rest);
  }

  return writer;
}
