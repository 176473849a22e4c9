/**
 * The request body of one tunnel stream as the handler reads it: the `data`
 * payloads received, in order. It reports each chunk the handler takes, so
 * the stream grants the client credit for exactly what was consumed.
 * Implements `throw()` and `return()`, which connect's pipeline calls.
 */
export class RequestBody implements AsyncIterableIterator<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private head = 0;
  private closed = false;
  private failure: { readonly reason: unknown } | undefined;
  private waiting: Waiting | undefined;

  constructor(private readonly onConsumed: (bytes: number) => void) {}

  /** Queues a chunk of whole envelopes; dropped once the handler stopped reading. */
  push(chunk: Uint8Array): void {
    if (this.closed) return;
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      this.onConsumed(chunk.length);
      waiting.resolve({ done: false, value: chunk });
      return;
    }
    this.chunks.push(chunk);
  }

  /** The client half-closed: the handler reads what is queued, then the end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settleWaiting();
  }

  /** The stream is over early: a pending or later read rejects with `reason`. */
  fail(reason: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = { reason };
    this.closed = true;
    this.chunks.length = 0;
    this.head = 0;
    this.settleWaiting();
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head] as Uint8Array;
      this.head++;
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      }
      this.onConsumed(chunk.length);
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.failure !== undefined) return Promise.reject(asError(this.failure.reason));
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.closed = true;
    this.chunks.length = 0;
    this.head = 0;
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(e?: unknown): Promise<IteratorResult<Uint8Array>> {
    void this.return();
    return Promise.reject(asError(e));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private settleWaiting(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    if (this.failure !== undefined) waiting.reject(this.failure.reason);
    else waiting.resolve({ done: true, value: undefined });
  }
}

interface Waiting {
  resolve(result: IteratorResult<Uint8Array>): void;
  reject(reason: unknown): void;
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
