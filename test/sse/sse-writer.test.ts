import { describe, expect, it } from "vitest";
import type { SseOutput } from "../../src/server/sse/exchange.js";
import { SharedSseText } from "../../src/server/sse/shared-text.js";
import { createSseWriter } from "../../src/server/sse/sse-writer.js";
import { createManualClock } from "./manual-clock.js";

/** An SSE response that records what reaches it, in order, in `log` (shared with the test's other events). */
function recordingOutput(log: string[]): SseOutput {
  return {
    canRespond: true,
    writeHead: (status) => void log.push(`head ${status}`),
    write: (text) => (log.push(`write ${JSON.stringify(text)}`), true),
    writeShared: (shared) => (log.push(`shared ${JSON.stringify(shared.text)}`), true),
    end: (text) => void log.push(`end ${JSON.stringify(text)}`),
    listen: () => undefined,
  };
}

const options = (clock = createManualClock(0)) => ({ clock, keepaliveMs: 15_000, retryMs: 1000, onClientGone: () => undefined });
const afterTurns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("SSE response writer", () => {
  it("sends what one turn queued as one write, after the other work queued for after the turn (the tunnel's batches)", async () => {
    const log: string[] = [];
    const writer = createSseWriter(recordingOutput(log), options());
    writer.open();
    writer.write("data: a\n\n");
    writer.write("data: b\n\n");
    // Queued after the writer's flush was scheduled, as a tunnel batch of the same tick would be.
    setImmediate(() => log.push("tunnel batch"));
    await afterTurns(3);
    expect(log).toEqual(["head 200", "tunnel batch", `write ${JSON.stringify("retry: 1000\n\ndata: a\n\ndata: b\n\n")}`]);
  });

  it("writes a shared event as the shared bytes when it is all of a turn, and as text after other text", async () => {
    const log: string[] = [];
    const a = createSseWriter(recordingOutput(log), options());
    const b = createSseWriter(recordingOutput(log), options());
    for (const writer of [a, b]) {
      writer.open();
      writer.write(": hello\n\n"); // the retry hint goes out with it
    }
    await afterTurns(3);
    log.length = 0;
    const event = new SharedSseText("id: 1\ndata: x\n\n");
    a.writeShared(event);
    b.write(": note\n\n");
    b.writeShared(event);
    await afterTurns(3);
    expect(log).toEqual([`shared ${JSON.stringify(event.text)}`, `write ${JSON.stringify(`: note\n\n${event.text}`)}`]);
  });
});
