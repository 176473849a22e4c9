/**
 * A push-driven async iterable with one consumer: producers call `push`,
 * `close` or `fail`; the consumer reads with `for await`. Used by server
 * handlers that merge several sources (ticks and incoming requests).
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(value: T): void;
  close(): void;
  fail(error: unknown): void;
}

export function createAsyncQueue<T>(onReturn?: () => void): AsyncQueue<T> {
  const items: T[] = [];
  let done = false;
  let error: { reason: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  return {
    push(value) {
      if (done) return;
      items.push(value);
      notify();
    },
    close() {
      done = true;
      notify();
    },
    fail(reason) {
      if (done) return;
      error = { reason };
      done = true;
      notify();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          while (items.length > 0) {
            yield items.shift() as T;
          }
          if (error) throw error.reason;
          if (done) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        done = true;
        onReturn?.();
      }
    },
  };
}
