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
 * The writers due to flush after this turn: one callback after the turn
 * ({@link runDueFlushesLast}) runs them all, where a fan-out would otherwise
 * schedule one per subscriber and tick.
 */
let dueFlushes: ResponseWriter[] = [];
let spareFlushes: ResponseWriter[] = [];

function runDueFlushes(): void {
  const due = dueFlushes;
  dueFlushes = spareFlushes;
  for (const writer of due) {
    try {
      writer.flush();
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

/**
 * Runs the flushes after the other work queued for after this turn, such as
 * the tunnel's batches: an SSE flush of a fan-out is a write per response
 * (thousands of system calls over HTTP/1.1), and a batch for thousands of
 * WebSocket subscribers should not wait behind it.
 */
function runDueFlushesLast(): void {
  afterTurn(runDueFlushes);
}

/** Creates the writer and starts its keepalive timer (stopped by `end` or a disconnect). */
export function createSseWriter(out: SseOutput, options: SseWriterOptions): SseWriter {
  return new ResponseWriter(out, options);
}

/**
 * The writer as one object: its state in fields and its behaviour on the
 * prototype. A fan-out touches every subscriber's writer each tick, and
 * closures over shared variables would add a context and a function object
 * per response to that walk.
 */
class ResponseWriter implements SseWriter {
  congested = false;
  closed = false;
  private opened = false;
  private pending = "";
  /** This turn's only text so far, when it is shared (`pending` is then empty). */
  private pendingShared: SharedSseText | undefined;
  private flushScheduled = false;
  private wroteSinceKeepalive = false;
  private waiters: (() => void)[] = [];
  private timer: unknown;
  private readonly keepalive = (): void => this.onKeepalive();

  constructor(
    private readonly out: SseOutput,
    private readonly options: SseWriterOptions,
  ) {
    this.timer = options.clock.setTimeout(this.keepalive, options.keepaliveMs);
    out.listen(
      () => {
        this.congested = false;
        this.release();
      },
      () => {
        if (this.closed) return;
        this.stop();
        options.onClientGone();
      },
    );
  }

  open(headers?: Headers): void {
    if (this.opened || this.closed) return;
    this.opened = true;
    const head: Record<string, string> = {};
    headers?.forEach((value, name) => (head[name] = value));
    head["content-type"] = SSE_CONTENT_TYPE;
    // no-transform: a compressing proxy would buffer the stream.
    head["cache-control"] = "no-cache, no-transform";
    head["x-accel-buffering"] = "no";
    this.out.writeHead(200, head);
    this.pending = encodeSseRetry(this.options.retryMs) + this.takePending();
  }

  write(text: string): void {
    if (this.closed) return;
    if (this.pendingShared !== undefined) this.pending = this.takePending();
    this.pending += text;
    if (this.pending.length >= flushNowChars) this.flush();
    else this.schedule();
  }

  writeShared(shared: SharedSseText): void {
    if (this.closed) return;
    if (this.pending === "" && this.pendingShared === undefined) {
      this.pendingShared = shared;
      this.schedule();
    } else {
      this.write(shared.text);
    }
  }

  drained(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  end(text = ""): void {
    if (this.closed) return;
    this.open();
    const rest = this.takePending() + text;
    this.stop();
    this.out.end(rest);
  }

  /** Writes what is queued (run after the turn by {@link runDueFlushes}, or at once for a large text). */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || (this.pending === "" && this.pendingShared === undefined)) return;
    this.open();
    this.wroteSinceKeepalive = true;
    const shared = this.pendingShared;
    const out = this.out;
    let ok: boolean;
    if (shared !== undefined && this.pending === "" && out.writeShared !== undefined) {
      this.pendingShared = undefined;
      ok = out.writeShared(shared);
    } else {
      ok = out.write(this.takePending());
    }
    if (!ok) this.congested = true;
  }

  private onKeepalive(): void {
    this.timer = undefined;
    if (this.closed) return;
    if (!this.wroteSinceKeepalive) {
      // flush opens the response first when it is not yet (the retry hint goes ahead of the comment).
      this.write(encodeSseComment("keepalive"));
      this.flush();
    }
    this.wroteSinceKeepalive = false;
    this.timer = this.options.clock.setTimeout(this.keepalive, this.options.keepaliveMs);
  }

  /** Everything queued, as one text; the queue is left empty. */
  private takePending(): string {
    const text = this.pendingShared === undefined ? this.pending : this.pending + this.pendingShared.text;
    this.pending = "";
    this.pendingShared = undefined;
    return text;
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (dueFlushes.length === 0) afterTurn(runDueFlushesLast);
    dueFlushes.push(this);
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const fn of waiters) fn();
  }

  private stop(): void {
    this.closed = true;
    this.congested = false;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.release();
  }
}
