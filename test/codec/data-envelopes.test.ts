import { describe, expect, it } from "vitest";
import { envelope, walkDataEnvelopes } from "../../src/codec/tunnel/index.js";

const frame = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
};
const collect = (seen: string[], buf: Uint8Array, start: number, end: number) => {
  seen.push(new TextDecoder().decode(buf.subarray(start, end)));
  return true;
};

describe("walkDataEnvelopes (one reader of data-frame envelopes for both peers)", () => {
  const ab = frame(envelope(new TextEncoder().encode("a")), envelope(new TextEncoder().encode("bc")));

  it("visits every payload as a view, in order", () => {
    const seen: string[] = [];
    expect(walkDataEnvelopes(ab, 0, ab.length, 16, seen, collect)).toBeUndefined();
    expect(seen).toEqual(["a", "bc"]);
  });

  it("stops when the visitor says so", () => {
    let visits = 0;
    expect(walkDataEnvelopes(ab, 0, ab.length, 16, null, () => ++visits < 1)).toBeUndefined();
    expect(visits).toBe(1);
  });

  it("names the first fault: a cut header, flags, an oversized payload (before the bounds), a payload past the frame", () => {
    expect(walkDataEnvelopes(ab, 0, 8, 16, [], collect)).toEqual({ kind: "truncated-header", at: 6 });
    const flagged = envelope(new Uint8Array(1));
    flagged[0] = 1;
    expect(walkDataEnvelopes(flagged, 0, flagged.length, 16, [], collect)).toEqual({ kind: "flags", flags: 1 });
    const big = envelope(new Uint8Array(40));
    expect(walkDataEnvelopes(big, 0, 10, 16, [], collect)).toEqual({ kind: "too-large", length: 40 });
    expect(walkDataEnvelopes(big, 0, 10, 64, [], collect)).toEqual({ kind: "overrun", length: 40 });
  });
});
