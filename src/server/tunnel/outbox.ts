import { afterTurn } from "../call/runtime.js";
import { type ControlFrame, type DataFrame, encodeFrameBatch, type Frame } from "../../codec/tunnel/index.js";

/**
 * Where a stream keeps its `data` frame of the current turn, so envelopes
 * queued in the same turn join it. The stream holds it so that the outbox
 * needs no per-turn `Map`: a `Map` cleared every turn leaves tables behind
 * that outlive young-generation GCs.
 */
export interface DataSlot {
  /** The stream's `data` frame; once sent, its chunks are released (empty) until the stream sends again. */
  frame: (DataFrame & { readonly chunks: Uint8Array[] }) | undefined;
}

/**
 * Collects the frames of one event-loop turn and sends them as one WebSocket
 * message after the turn (PROTOCOL.md §1.2): a browser pays per message,
 * so batching is where throughput comes from. Envelopes of one stream queued
 * in the same turn share one `data` frame.
 */
export class Outbox {
  private dataBytes = 0;
  private readonly pending: Frame[] = [];
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

  /**
   * Queues whole envelopes of stream `streamId` (a view, copied once when the
   * batch is encoded); `slot` is the stream's own, empty at first.
   */
  queueData(streamId: number, envelopes: Uint8Array, slot: DataSlot): void {
    this.dataBytes += envelopes.length;
    // A frame of this turn holds at least one chunk; a sent one holds none, and is queued again
    // for this turn (a subscriber sends every tick: no frame or array per message).
    const frame = slot.frame;
    if (frame === undefined) {
      slot.frame = { kind: "data", streamId, chunks: [envelopes] };
      this.pending.push(slot.frame);
    } else {
      const queued = frame.chunks.length > 0;
      frame.chunks.push(envelopes);
      if (queued) return;
      this.pending.push(frame);
    }
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
    // Let go of the envelopes (a stream's slot keeps its frame until it sends again); this also marks the frames sent.
    for (const frame of this.pending) if (frame.kind === "data") (frame.chunks as Uint8Array[]).length = 0;
    this.pending.length = 0;
    this.dataBytes = 0;
    this.send(batch);
    this.flushed();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    afterTurn(this.flushNow);
  }
}
