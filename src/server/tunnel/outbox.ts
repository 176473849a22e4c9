import { type ControlFrame, type DataFrame, encodeFrameBatch, type Frame } from "../../codec/tunnel/index.js";

/**
 * Collects the frames of one event-loop turn and sends them as one WebSocket
 * message from `setImmediate` (PROTOCOL.md §1.2): a browser pays per message,
 * so batching is where throughput comes from. Envelopes of one stream queued
 * in the same turn share one `data` frame.
 */
export class Outbox {
  private dataBytes = 0;
  private readonly pending: Frame[] = [];
  /** This turn's `data` frame of each stream. */
  private readonly pendingData = new Map<number, DataFrame & { readonly chunks: Uint8Array[] }>();
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
    this.pending.push(frame);
    this.schedule();
  }

  /** Queues whole envelopes (a view, copied once when the batch is encoded). */
  queueData(streamId: number, envelopes: Uint8Array): void {
    this.dataBytes += envelopes.length;
    const frame = this.pendingData.get(streamId);
    if (frame !== undefined) {
      frame.chunks.push(envelopes);
      return;
    }
    const created = { kind: "data" as const, streamId, chunks: [envelopes] };
    this.pendingData.set(streamId, created);
    this.pending.push(created);
    this.schedule();
  }

  /** Bytes of `data` queued since the last flush. */
  get pendingDataBytes(): number {
    return this.dataBytes;
  }

  /** Sends what is queued now, in one message (also used right before a close). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = encodeFrameBatch(this.pending);
    this.pending.length = 0;
    this.pendingData.clear();
    this.dataBytes = 0;
    this.send(batch);
    this.flushed();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushNow);
  }
}
