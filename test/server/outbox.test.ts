import { describe, expect, it } from "vitest";
import { type ControlFrame, decodeFrameBatch, envelope } from "../../src/codec/tunnel/index.js";
import { Outbox } from "../../src/server/tunnel/outbox.js";

/** Frames of one sent batch: data frames as their byte count. */
function framesOf(batch: Uint8Array): (ControlFrame | { kind: "data"; streamId: number; bytes: number })[] {
  const out: (ControlFrame | { kind: "data"; streamId: number; bytes: number })[] = [];
  decodeFrameBatch(batch, {
    data: (streamId, _buf, start, end) => out.push({ kind: "data", streamId, bytes: end - start }),
    control: (f) => out.push(f),
  });
  return out;
}

describe("Outbox", () => {
  it("sends one turn's frames as one message, a stream's envelopes of the turn in one data frame, and counts the data", async () => {
    const sent: Uint8Array[] = [];
    let flushes = 0;
    const outbox = new Outbox(
      (b) => sent.push(b),
      () => flushes++,
    );
    const one = envelope(new Uint8Array(3));
    outbox.queue({ kind: "headers", streamId: 1, headers: [] });
    outbox.queueData(1, one);
    outbox.queueData(1, one);
    outbox.queueData(3, one);
    outbox.queueData(1, one);
    expect(outbox.pendingDataBytes).toBe(32);
    // Nothing goes out before the turn ends; then everything, in one message.
    expect(sent).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(1);
    expect(flushes).toBe(1);
    expect(framesOf(sent[0] as Uint8Array)).toEqual([
      { kind: "headers", streamId: 1, headers: [] },
      { kind: "data", streamId: 1, bytes: 24 },
      { kind: "data", streamId: 3, bytes: 8 },
    ]);
    expect(outbox.pendingDataBytes).toBe(0);
    outbox.queueData(1, one);
    outbox.flush();
    expect(framesOf(sent[1] as Uint8Array)).toEqual([{ kind: "data", streamId: 1, bytes: 8 }]);
    // An empty flush sends nothing.
    outbox.flush();
    expect(sent).toHaveLength(2);
  });
});
