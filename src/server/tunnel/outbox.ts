import { afterTurn } from "../call/runtime.js";
import { type ControlFrame, FrameBatchBuilder } from "../../codec/tunnel/index.js";

/**
 * Collects the frames of one event-loop turn and sends them as one WebSocket
 * message after the turn (PROTOCOL.md §1.2): a browser pays per message,
 * so batching is where throughput comes from. Frames are encoded as they are
 * queued, so a fan-out keeps nothing per stream between its envelope and
 * the message; a stream's envelopes of one turn share one `data` frame
 * (within the limits of {@link FrameBatchBuilder}).
 */
export class Outbox {
  private dataBytes = 0;
  private readonly batch = new FrameBatchBuilder();
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  /**
   * @param send writes one WebSocket message; it decides whether the socket can still take it.
   * @param flushed called after each flush, so producers held back for the batch can go on.
   */
  constructor(
    private readonly send: (batch: Uint8Array) => void,
    private readonly flushed: () => void,
  ) {}

  queue(frame: ControlFrame): void {
    this.batch.add(frame);
    this.schedule();
  }

  /** Queues whole envelopes of stream `streamId` (copied now: the caller may reuse them). */
  queueData(streamId: number, envelopes: Uint8Array): void {
    this.dataBytes += envelopes.length;
    this.batch.data(streamId, envelopes);
    this.schedule();
  }

  /** Bytes of `data` queued since the last flush. */
  get pendingDataBytes(): number {
    return this.dataBytes;
  }

  /** Sends what is queued now, in one message (also used right before a close). */
  flush(): void {
    this.scheduled = false;
    if (this.batch.empty) return;
    const message = this.batch.take();
    this.dataBytes = 0;
    this.send(message);
    this.flushed();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    afterTurn(this.flushNow);
  }
}
