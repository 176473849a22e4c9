/**
 * A push-driven async iterable with one consumer and a capacity: producers
 * call `push`, `close` or `fail`, and await `room()` first to respect the
 * capacity; the consumer reads with `for await`. Used by server handlers that
 * merge several sources (ticks and incoming requests): a consumer that stops
 * reading stops its producers instead of growing the queue.
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  /** Queues `value` (dropped once the queue is done). Does not wait: await `room()` before it. */
  push(value: T): void;
  /**
   * Resolves once the queue holds fewer than its capacity, or is done. With
   * `n` producers that each await it before a push, the queue holds at most
   * capacity + n − 1 items.
   */
  room(): Promise<void>;
  close(): void;
  fail(error: unknown): void;
}

/** Options of {@link createAsyncQueue}. */
export interface AsyncQueueOptions {
  /** Items the queue holds before `room()` waits. Default 64. */
  readonly capacity?: number;
  /** Called once when the consumer stops (end, error, or leaving its loop). */
  readonly onReturn?: () => void;
}

export function createAsyncQueue<T>(options: AsyncQueueOptions = {}): AsyncQueue<T> {
  const capacity = options.capacity ?? 64;
  const items: T[] = [];
  let head = 0;
  let done = false;
  let error: { reason: unknown } | undefined;
  let wake: (() => void) | undefined;
  let roomWaiters: (() => void)[] = [];
  const size = () => items.length - head;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const releaseProducers = () => {
    const waiters = roomWaiters;
    roomWaiters = [];
    for (const resolve of waiters) resolve();
  };
  const finish = () => {
    done = true;
    notify();
    releaseProducers();
  };
  return {
    push(value) {
      if (done) return;
      items.push(value);
      notify();
    },
    room() {
      if (done || size() < capacity) return Promise.resolve();
      return new Promise<void>((resolve) => roomWaiters.push(resolve));
    },
    close: finish,
    fail(reason) {
      if (done) return;
      error = { reason };
      finish();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          while (size() > 0) {
            const value = items[head] as T;
            items[head++] = undefined as T; // let go of it before the consumer does
            if (head === items.length) {
              items.length = 0;
              head = 0;
            }
            if (size() < capacity) releaseProducers();
            yield value;
          }
          if (error) throw error.reason;
          if (done) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        finish();
        items.length = 0;
        head = 0;
        options.onReturn?.();
      }
    },
  };
}
