import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { RESUME_STATUS_HEADER } from "../../codec/resume.js";
import type { GetWeatherRequest } from "../../gen/weather_pb.js";
import type { PushSink, PushStream } from "../call/direct-call.js";
import { followWithObject, type SourceReading, type WeatherSource } from "./weather-source.js";

/** What every push subscription of one service shares. */
export interface PushContext {
  readonly source: WeatherSource;
  /** Most readings held for a call that is not taking them; past it the call catches up from history. */
  readonly maxQueued: number;
  /** Open subscriptions, ended with `Unavailable` when the server shuts down (one listener for all). */
  readonly open: Set<PushSubscription>;
}

/** Most readings a call holds from history at a time: a long replay is read page by page as the call takes it. */
export const REPLAY_PAGE_READINGS = 1024;

/**
 * One `SubscribeWeather` call in push form: a slot in the city's follower
 * list that sends each reading straight into the call. It keeps the
 * semantics of the async-iterable form exactly: follow first, then the
 * newest reading or the replay after the resume cursor; a cursor drops
 * whatever is not after the last reading sent (a reading can arrive both
 * live and in a replay).
 *
 * History is read a page ({@link REPLAY_PAGE_READINGS}) at a time, after the
 * last reading sent, as the call takes it: a replay of any length holds one
 * page. Live readings that arrive while the call is paused (flow control)
 * or still reading history wait in a queue of at most `maxQueued`, past
 * which they are dropped and read from history instead; a replay's own
 * readings never count against that bound.
 *
 * Per subscriber it holds this object (the follower itself, with the
 * package's sources) and the source's unfollow function; the page and the
 * queue exist only while readings wait.
 */
export class PushSubscription implements PushStream {
  private readonly cityCode: string;
  private readonly extended: boolean;
  /** Timestamp of the last reading sent (or the resume cursor): only later readings go out. */
  private cursor = -1n;
  /** Live readings waiting while the call is starting, paused or reading history; undefined while readings go straight out. */
  private queue: SourceReading[] | undefined = [];
  private head = 0;
  /** The page of history being sent, oldest first; `pageAt` is the next to send. */
  private page: readonly SourceReading[] = [];
  private pageAt = 0;
  /** History may hold readings after the cursor that are in no page or queue yet (a full page, or the queue overflowed). */
  private historyLeft = false;
  /** The call asked for no more until `resume`. */
  private paused = false;
  /** Reading the newest reading or a page of history: live readings wait behind it. */
  private loading = true;
  private stopped = false;
  private readonly unfollow: () => void;

  constructor(
    private readonly shared: PushContext,
    req: GetWeatherRequest,
    private readonly sink: PushSink,
  ) {
    this.cityCode = req.cityCode;
    this.extended = req.extended;
    // Follows before it joins `open`: an unknown city throws here, leaving nothing behind.
    this.unfollow = followWithObject(shared.source, req.cityCode, this);
    shared.open.add(this);
  }

  /** Sends the newest reading (no cursor) or the replay after `cursor`, then what arrived meanwhile. */
  async start(ctx: HandlerContext, cursor: bigint | undefined): Promise<void> {
    const source = this.shared.source;
    if (cursor === undefined) {
      const newest = source.newest(this.cityCode);
      const reading = newest instanceof Promise ? await newest : newest;
      if (this.stopped) return;
      this.release([reading], false);
    } else {
      const replay = await source.replay(this.cityCode, cursor, REPLAY_PAGE_READINGS);
      if (this.stopped) return;
      ctx.responseHeader.set(RESUME_STATUS_HEADER, replay.gap ? "gap" : "recovered");
      this.cursor = cursor;
      this.release(replay.readings, replay.readings.length >= REPLAY_PAGE_READINGS);
    }
  }

  resume(): void {
    if (this.stopped || !this.paused) return;
    this.paused = false;
    if (!this.loading) this.drain();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = undefined;
    this.page = [];
    this.unfollow();
    this.shared.open.delete(this);
  }

  /** Ends the call with `error` (shutdown, a failed catch-up). */
  fail(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.sink.close(error);
  }

  /** A live reading from the source: sent at once, or queued while the call is not taking readings. */
  onReading(reading: SourceReading): void {
    if (this.stopped) return;
    if (this.queue === undefined) {
      this.send(reading);
      return;
    }
    const queue = this.queue;
    if (queue.length - this.head < this.shared.maxQueued) {
      queue.push(reading);
      return;
    }
    // History has these readings: read them from there once the call takes more.
    this.historyLeft = true;
    this.queue = [];
    this.head = 0;
  }

  /** Sends `reading` if it is after the cursor; false once the call wants no more for now. */
  private send(reading: SourceReading): boolean {
    if (reading.timestamp <= this.cursor) return true;
    this.cursor = reading.timestamp;
    if (this.sink.send(this.extended ? reading.extended : reading.plain)) return true;
    this.paused = true;
    this.queue ??= [];
    return false;
  }

  /** A read is over: `page` (older readings) goes out ahead of those that waited meanwhile; `more` when history may hold more after it. */
  private release(page: readonly SourceReading[], more: boolean): void {
    this.page = page;
    this.pageAt = 0;
    if (more) this.historyLeft = true;
    this.loading = false;
    if (!this.paused) this.drain();
  }

  /**
   * Sends what waits, in order, until the call pauses again: the page, then
   * the rest of history, then the live queue; after that live readings go
   * straight out.
   */
  private drain(): void {
    while (!this.stopped && !this.paused) {
      const page = this.page;
      if (this.pageAt < page.length) {
        this.send(page[this.pageAt++] as SourceReading);
        continue;
      }
      if (page.length > 0) this.page = [];
      if (this.historyLeft) {
        this.historyLeft = false;
        this.loading = true;
        this.readHistory().catch((e: unknown) => this.fail(e));
        return;
      }
      const queue = this.queue;
      if (queue === undefined) return;
      if (this.head >= queue.length) {
        // Everything waiting went out: live readings go straight to the call again.
        this.queue = undefined;
        this.head = 0;
        return;
      }
      this.send(queue[this.head++] as SourceReading);
    }
  }

  /** Reads the next page of history after the cursor, then sends it and what arrived meanwhile. */
  private async readHistory(): Promise<void> {
    const replay = await this.shared.source.replay(this.cityCode, this.cursor, REPLAY_PAGE_READINGS);
    if (this.stopped) return;
    if (replay.gap) {
      throw new ConnectError(
        `the stream of ${this.cityCode} fell behind its history window while the client was not reading; resume to continue`,
        Code.ResourceExhausted,
      );
    }
    this.release(replay.readings, replay.readings.length >= REPLAY_PAGE_READINGS);
  }
}
