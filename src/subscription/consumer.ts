import type { ConnectError } from "@connectrpc/connect";

/** What a {@link Consumer} needs from its subscription. */
export interface ConsumerHost {
  /** The consumer's backlog passed the high-water mark, or drained below half of it. */
  backlog(consumer: Consumer<unknown>, full: boolean): void;
  /** The consumer left its loop early (`break`, `return`, an exception). */
  left(consumer: Consumer<unknown>): void;
}

/**
 * One `for await` loop over a subscription: a queue fed by the subscription's
 * listener. When the loop falls behind by `highWaterMark` messages, the host
 * pauses the network stream, so the backlog stays bounded.
 */
export class Consumer<T> implements AsyncIterator<T> {
  private queue: T[] = [];
  private head = 0;
  private full = false;
  private finished: { error: ConnectError | undefined } | undefined;
  private waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;

  constructor(
    private readonly host: ConsumerHost,
    private readonly highWaterMark: number,
  ) {}

  push(message: T): void {
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting.resolve({ done: false, value: message });
      return;
    }
    this.queue.push(message);
    if (!this.full && this.queue.length - this.head >= this.highWaterMark) {
      this.full = true;
      this.host.backlog(this as Consumer<unknown>, true);
    }
  }

  finish(error: ConnectError | undefined): void {
    if (this.finished !== undefined) return;
    this.finished = { error };
    const waiting = this.waiting;
    if (waiting !== undefined && this.head >= this.queue.length) {
      this.waiting = undefined;
      if (error !== undefined) waiting.reject(error);
      else waiting.resolve({ done: true, value: undefined });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head] as T;
      this.head++;
      const backlog = this.queue.length - this.head;
      if (backlog === 0) {
        this.queue = [];
        this.head = 0;
      }
      if (this.full && backlog <= this.highWaterMark / 2) {
        this.full = false;
        this.host.backlog(this as Consumer<unknown>, false);
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.finished !== undefined) {
      const error = this.finished.error;
      return error !== undefined ? Promise.reject(error) : Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.finish(undefined);
    this.queue = [];
    this.head = 0;
    this.host.left(this as Consumer<unknown>);
    return Promise.resolve({ done: true, value: undefined });
  }
}
