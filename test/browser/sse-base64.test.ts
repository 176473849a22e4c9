import { base64Encode } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { decodeSseBase64 } from "../../src/codec/sse/base64.js";

/** Bytes whose values depend on `seed`, so two messages never look alike. */
function bytesOf(seed: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff);
}

describe("decodeSseBase64 in Chromium (native setFromBase64 into a shared slab)", () => {
  it("runs on the native decoder here", () => {
    expect(typeof (Uint8Array.prototype as { setFromBase64?: unknown }).setFromBase64).toBe("function");
  });

  it("keeps every earlier view intact while later messages fill several slabs", () => {
    // 3,000 messages of 1..97 bytes: about 150 KiB, so the decoder moves through three slabs.
    const sent = Array.from({ length: 3000 }, (_, i) => bytesOf(i, 1 + (i % 97)));
    const views = sent.map((bytes) => decodeSseBase64(base64Encode(bytes)));
    views.forEach((view, i) => expect(view).toEqual(sent[i]));
    // Each view is exactly its message: writing past it would be visible in its neighbour.
    expect(views.every((view, i) => view.length === sent[i]?.length)).toBe(true);
  });

  it("decodes a message larger than a slab, and unpadded text", () => {
    const big = bytesOf(5, 100_000);
    expect(decodeSseBase64(base64Encode(big))).toEqual(big);
    expect(decodeSseBase64("AQID")).toEqual(new Uint8Array([1, 2, 3]));
    expect(decodeSseBase64("AQI")).toEqual(new Uint8Array([1, 2]));
    expect(decodeSseBase64("")).toEqual(new Uint8Array(0));
  });

  it("refuses text that is not base64 with a SyntaxError", () => {
    expect(() => decodeSseBase64("not base64!")).toThrow(SyntaxError);
    expect(() => decodeSseBase64("AQID AQID")).not.toThrow(); // whitespace is allowed by the standard decoder
  });
});
