import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { decodeFrameBatch, encodeFrameBatch, TunnelProtocolError } from "../../src/codec/tunnel/index.js";
import { FrameBatchSchema } from "../../src/gen/weather/tunnel/v1/tunnel_pb.js";
import { batchOf, comparable, type Decoded, framesOf, hex, loadVectors, unhex } from "../conformance/vectors.js";

const vectors = loadVectors();

function decode(bytes: Uint8Array): Decoded[] {
  const out: Decoded[] = [];
  decodeFrameBatch(bytes, {
    data: (streamId, buf, start, end) => out.push({ kind: "data", streamId, hex: hex(buf.subarray(start, end)) }),
    control: (frame) => out.push(frame),
  });
  return out;
}

describe("tunnel test vectors (test/conformance/vectors/frames.json)", () => {
  it("has vectors of every kind", () => {
    const kinds = new Set(vectors.canonical.vectors.flatMap((v) => framesOf(batchOf(v)).map((f) => f.kind)));
    expect([...kinds].sort()).toEqual(
      ["cancel", "data", "end", "goAway", "halfClose", "headers", "hello", "open", "ping", "pong", "windowUpdate"].sort(),
    );
    expect(vectors.tolerated.vectors.length).toBeGreaterThan(0);
    expect(vectors.malformed.vectors.length).toBeGreaterThan(0);
  });

  describe.each(vectors.canonical.vectors.map((v) => [v.name, v] as const))("canonical %s", (_name, vector) => {
    it("decodes to the expected frames", () => {
      expect(decode(unhex(vector.hex))).toEqual(framesOf(batchOf(vector)).map(comparable));
    });

    it("encodes the frames to exactly these bytes", () => {
      expect(hex(encodeFrameBatch(framesOf(batchOf(vector))))).toBe(vector.hex);
    });

    it("is what the schema in proto/ says, in both directions", () => {
      expect(hex(toBinary(FrameBatchSchema, batchOf(vector)))).toBe(vector.hex);
      expect(toJson(FrameBatchSchema, fromBinary(FrameBatchSchema, unhex(vector.hex)))).toEqual(vector.batch);
    });
  });

  describe.each(vectors.tolerated.vectors.map((v) => [v.name, v] as const))("tolerated %s", (_name, vector) => {
    it("decodes to the expected frames, skipping what this version does not know", () => {
      expect(decode(unhex(vector.hex))).toEqual(framesOf(batchOf(vector)).map(comparable));
    });

    it("is read the same way by protobuf-es", () => {
      const parsed = fromBinary(FrameBatchSchema, unhex(vector.hex));
      const known = create(FrameBatchSchema, { frames: parsed.frames.filter((f) => f.kind.case !== undefined) });
      expect(toJson(FrameBatchSchema, known)).toEqual(vector.batch);
    });
  });

  it.each(vectors.malformed.vectors.map((v) => [v.name, v] as const))("rejects malformed %s", (_name, vector) => {
    let error: unknown;
    try {
      decode(unhex(vector.hex));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TunnelProtocolError);
    expect((error as TunnelProtocolError).code).toBe("malformed_frame");
  });
});
