import type { SourceReading, WeatherSource } from "./weather-source.js";

/**
 * The live readings of one call (one or more cities), in order and without
 * duplicates: each city keeps the cursor of the last reading handed out, and
 * whatever is not after it is dropped. Readings wait in a bounded queue while
 * the call is not pulling (flow control holds it back); past `maxQueued` the
 * queue is dropped and {@link ReadingFeed.take} says the call fell behind, so
 * it catches up from the source's history instead of holding memory.
 */
export class ReadingFeed {
  /** Returned by {@link ReadingFeed.take} once after the queue overflowed. */
  static readonly FELL_BEHIND: unique symbol = Symbol("fell behind");

  readonly #maxQueued: number;
  readonly #signals: readonly AbortSignal[];
  readonly #cursors = new Map<string, bigint>();
  readonly #unfollow: (() => void)[] = [];
  #queue: SourceReading[] = [];
  #head = 0;
  #fellBehind = false;
  #aborted: { reason: Error } | undefined;
  #wake: (() => void) | undefined;
  #fail: ((reason: Error) => void) | undefined;

  constructor(maxQueued: number, ...signals: AbortSignal[]) {
    this.#maxQueued = maxQueued;
    this.#signals = signals;
    for (const signal of signals) {
      if (signal.aborted) this.#aborted ??= { reason: asError(signal.reason) };
      else signal.addEventListener("abort", this.#onAbort);
    }
  }

  /** Starts following `cityCode` on `source`; its cursor starts before every reading. */
  follow(source: WeatherSource, cityCode: string): void {
    this.#unfollow.push(source.follow(cityCode, this.#push));
    if (!this.#cursors.has(cityCode)) this.#cursors.set(cityCode, -1n);
  }

  follows(cityCode: string): boolean {
    return this.#cursors.has(cityCode);
  }

  cities(): IterableIterator<string> {
    return this.#cursors.keys();
  }

  /** Moves the cursor of `cityCode`: only readings after `cursor` are handed out. */
  after(cityCode: string, cursor: bigint): void {
    this.#cursors.set(cityCode, cursor);
  }

  cursorOf(cityCode: string): bigint {
    return this.#cursors.get(cityCode) ?? -1n;
  }

  /** True when `reading` is after its city's cursor, which then moves to it; false for a reading already handed out. */
  deliverable(reading: SourceReading): boolean {
    const cursor = this.#cursors.get(reading.cityCode) ?? -1n;
    if (reading.timestamp <= cursor) return false;
    this.#cursors.set(reading.cityCode, reading.timestamp);
    return true;
  }

  /** The next reading to hand out, {@link ReadingFeed.FELL_BEHIND}, or undefined when none is waiting. Throws once aborted. */
  take(): SourceReading | typeof ReadingFeed.FELL_BEHIND | undefined {
    if (this.#aborted !== undefined) throw this.#aborted.reason;
    if (this.#fellBehind) {
      this.#fellBehind = false;
      return ReadingFeed.FELL_BEHIND;
    }
    while (this.#head < this.#queue.length) {
      const reading = this.#queue[this.#head] as SourceReading;
      this.#head++;
      if (this.deliverable(reading)) return reading;
    }
    this.#queue.length = 0;
    this.#head = 0;
    return undefined;
  }

  /** Resolves when a reading arrives; rejects with the abort reason. One wait at a time. */
  wait(): Promise<void> {
    if (this.#aborted !== undefined) return Promise.reject(this.#aborted.reason);
    return new Promise<void>((resolve, reject) => {
      this.#wake = resolve;
      this.#fail = reject;
    });
  }

  /** Stops following every city and lets go of the signals. */
  stop(): void {
    for (const unfollow of this.#unfollow.splice(0)) unfollow();
    for (const signal of this.#signals) signal.removeEventListener("abort", this.#onAbort);
    this.#queue = [];
    this.#head = 0;
  }

  readonly #push = (reading: SourceReading): void => {
    if (this.#queue.length - this.#head >= this.#maxQueued) {
      this.#fellBehind = true;
      this.#queue = [];
      this.#head = 0;
    } else {
      this.#queue.push(reading);
    }
    const wake = this.#wake;
    this.#wake = undefined;
    this.#fail = undefined;
    wake?.();
  };

  readonly #onAbort = (event: Event): void => {
    this.#aborted ??= { reason: asError((event.target as AbortSignal).reason) };
    const fail = this.#fail;
    this.#wake = undefined;
    this.#fail = undefined;
    fail?.(this.#aborted.reason);
  };
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
