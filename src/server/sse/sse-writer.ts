import type { Clock } from "../../clock.js";
import { encodeSseComment, encodeSseRetry } from "../../codec/sse/encoder.js";
import { SSE_CONTENT_TYPE } from "../../codec/sse/protocol.js";
import { afterTurn } from "../call/runtime.js";
import type { SseOutput } from "./exchange.js";
import type { SharedSseText } from "./shared-text.js";

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
  /**
   * Queues event text that other responses send too: when it is all this
   * turn's write, its shared bytes go out as they are (no encoding per response).
   */
  writeShared(shared: SharedSseText): void;
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

/**
 * The flushes due after this turn, of every writer: one `setImmediate` runs
 * them all, where a fan-out would otherwise schedule one per subscriber and tick.
 */
let dueFlushes: (() => void)[] = [];
let spareFlushes: (() => void)[] = [];

function runDueFlushes(): void {
  const due = dueFlushes;
  dueFlushes = spareFlushes;
  for (const flush of due) {
    try {
      flush();
    } catch (e) {
      // As its own callback would have: thrown, without keeping the other responses' flushes back.
      queueMicrotask(() => {
        throw e;
      });
    }
  }
  due.length = 0;
  spareFlushes = due;
}

function flushAfterTurn(flush: () => void): void {
  if (dueFlushes.length === 0) afterTurn(runDueFlushes);
  dueFlushes.push(flush);
}

/** Creates the writer and starts its keepalive timer (stopped by `end` or a disconnect). */
export function createSseWriter(out: SseOutput, options: SseWriterOptions): SseWriter {
  const { clock, keepaliveMs } = options;
  let opened = false;
  let pending = "";
  /** This turn's only text so far, when it is shared (`pending` is then empty). */
  let pendingShared: SharedSseText | undefined;
  let flushScheduled = false;
  // `closed` and `congested` are plain properties of the writer, not getters:
  // V8 gives an object literal with getters a hidden class of its own, whose
  // closures keep each response's objects alive through young-generation GCs.
  const writer: { -readonly [K in keyof SseWriter]: SseWriter[K] } = {
    open,
    write,
    writeShared,
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
      write(encodeSseComment("keepalive"));
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
    pending = encodeSseRetry(options.retryMs) + takePending();
  }

  /** Everything queued, as one text; the queue is left empty. */
  function takePending(): string {
    const text = pendingShared === undefined ? pending : pending + pendingShared.text;
    pending = "";
    pendingShared = undefined;
    return text;
  }

  function flush(): void {
    flushScheduled = false;
    if (writer.closed || (pending === "" && pendingShared === undefined)) return;
    open();
    wroteSinceKeepalive = true;
    const shared = pendingShared;
    let ok: boolean;
    if (shared !== undefined && pending === "" && out.writeShared !== undefined) {
      pendingShared = undefined;
      ok = out.writeShared(shared);
    } else {
      ok = out.write(takePending());
    }
    if (!ok) writer.congested = true;
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
    if (pendingShared !== undefined) pending = takePending();
    pending += text;
    if (pending.length >= flushNowChars) flush();
    else schedule();
  }

  function writeShared(shared: SharedSseText): void {
    if (writer.closed) return;
    if (pending === "" && pendingShared === undefined) {
      pendingShared = shared;
      schedule();
    } else {
      write(shared.text);
    }
  }

  function schedule(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    flushAfterTurn(flush);
  }

  function drained(): Promise<void> {
    if (!writer.congested) return Promise.resolve();
    return new Promise((resolve) => waiters.push(resolve));
  }

  function end(text = ""): void {
    if (writer.closed) return;
    open();
    const rest = takePending() + text;
    stop();
    out.end(rest);
  }

  return writer;
}
