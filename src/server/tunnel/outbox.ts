import { afterTurn } from "../call/runtime.js";
import { type ControlFrame, type DataFrame, encodeFrameBatch, type Frame } from "../../codec/tunnel/index.js";

/**
 * Where a stream keeps its `data` frame of the current turn, so envelopes
 * queued in the same turn join it. The stream holds it so that the outbox
 * needs no per-turn `Map`: a `Map` cleared every turn leaves tables behind
 * that outlive young-generation GCs.
 */
export interface DataSlot {
  /** The stream's `data` frame; once sent, it holds only {@link SENT} until the stream sends again. */
  frame: (DataFrame & { readonly chunks: Uint8Array[] }) | undefined;
}

/**
 * What a sent `data` frame holds instead of its envelopes: the frame and its
 * array are kept for the stream's next turn (emptying the array would free
 * its backing store, and the next envelope would allocate one: per
 * subscriber and tick), the envelopes are let go.
 */
export const SENT = new Uint8Array(0);

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
    // A frame of this turn holds its envelopes; a sent one holds SENT, and is queued again for this
    // turn (a subscriber sends every tick: no frame, array or backing store per message).
    const frame = slot.frame;
    if (frame === undefined) {
      slot.frame = { kind: "data", streamId, chunks: [envelopes] };
      this.pending.push(slot.frame);
    } else if (frame.chunks[0] === SENT) {
      frame.chunks[0] = envelopes;
      this.pending.push(frame);
    } else {
      frame.chunks.push(envelopes);
      return;
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
    for (const frame of this.pending) {
      if (frame.kind !== "data") continue;
      const chunks = frame.chunks as Uint8Array[];
      if (chunks.length > 1) chunks.length = 1;
      chunks[0] = SENT;
    }
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
