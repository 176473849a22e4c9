import { describe, expect, it } from "vitest";
import { type ControlFrame, decodeFrameBatch, envelope } from "../../src/codec/tunnel/index.js";
import { type DataSlot, Outbox, SENT } from "../../src/server/tunnel/outbox.js";

/** Frames of one sent batch: data frames as their envelope count. */
function framesOf(batch: Uint8Array): (ControlFrame | { kind: "data"; streamId: number; bytes: number })[] {
  const out: (ControlFrame | { kind: "data"; streamId: number; bytes: number })[] = [];
  decodeFrameBatch(batch, {
    data: (streamId, _buf, start, end) => out.push({ kind: "data", streamId, bytes: end - start }),
    control: (f) => out.push(f),
  });
  return out;
}

describe("Outbox", () => {
  it("joins a stream's envelopes of one turn in one data frame, and starts a new frame after the flush", () => {
    const sent: Uint8Array[] = [];
    const outbox = new Outbox(
      (b) => sent.push(b),
      () => undefined,
    );
    const a: DataSlot = { frame: undefined };
    const b: DataSlot = { frame: undefined };
    const one = envelope(new Uint8Array(3));
    outbox.queueData(1, one, a);
    outbox.queueData(3, one, b);
    outbox.queueData(1, one, a);
    outbox.flush();
    expect(framesOf(sent[0] as Uint8Array)).toEqual([
      { kind: "data", streamId: 1, bytes: 16 },
      { kind: "data", streamId: 3, bytes: 8 },
    ]);
    // The sent frame let go of its envelopes (it keeps its array for the next turn); the next turn's envelope is alone in it.
    expect(a.frame?.chunks).toEqual([SENT]);
    outbox.queueData(1, one, a);
    outbox.flush();
    expect(framesOf(sent[1] as Uint8Array)).toEqual([{ kind: "data", streamId: 1, bytes: 8 }]);
  });
});
