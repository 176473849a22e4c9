import { describe, expect, it } from "vitest";
import { StreamTable } from "../../src/transport/websocket/stream-table.js";

/** A small deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe("StreamTable", () => {
  it.each([1, 2, 3])("agrees with a Map over random opens and ends, colliding ids and growth included (seed %i)", (seed) => {
    const next = random(seed);
    const table = new StreamTable<string>(2);
    const model = new Map<number, string>();
    let nextId = 1;
    for (let step = 0; step < 20_000; step++) {
      const r = next();
      if (r < 0.45 || model.size === 0) {
        // Consecutive ids, as clients open them, and ids that share their low bits (a server may see gaps).
        const id = r < 0.3 ? nextId++ : (Math.floor(next() * 64) + 1) * 1024 + (nextId % 7);
        table.set(id, `s${id}@${step}`);
        model.set(id, `s${id}@${step}`);
      } else if (r < 0.9) {
        const ids = [...model.keys()];
        const id = ids[Math.floor(next() * ids.length)] as number;
        table.delete(id);
        model.delete(id);
      } else {
        table.delete(nextId + 1_000_000); // absent: nothing happens
      }
      if (step % 97 === 0) {
        expect(table.size).toBe(model.size);
        for (const [id, value] of model) expect(table.get(id)).toBe(value);
        expect(table.values().sort()).toEqual([...model.values()].sort());
        expect(table.get(nextId + 1_000_000)).toBeUndefined();
      }
    }
  });

  it("keeps every stream when many collide in one run and the middle ones end", () => {
    const table = new StreamTable<number>(16);
    const ids = [16, 32, 48, 64, 17, 33]; // homes 0, 0, 0, 0, 1, 1 in 16 slots
    for (const id of ids) table.set(id, id);
    table.delete(32);
    table.delete(16);
    expect(ids.filter((id) => id !== 16 && id !== 32).map((id) => table.get(id))).toEqual([48, 64, 17, 33]);
    expect(table.get(16)).toBeUndefined();
    expect(table.size).toBe(4);
  });

  it("refuses id 0, which marks a free slot, and ignores deletes of 0 and of absent ids", () => {
    const table = new StreamTable<number>();
    expect(() => table.set(0, 1)).toThrow(RangeError);
    table.set(7, 7);
    table.delete(0);
    table.delete(8);
    expect(table.size).toBe(1);
    expect(table.get(7)).toBe(7);
  });

  it("holds ids up to the protocol's 2^31 - 1", () => {
    const table = new StreamTable<number>(4);
    const ids = [2 ** 31 - 1, 2 ** 31 - 2, 2 ** 30, 1, 2 ** 31 - 1 - 16];
    for (const id of ids) table.set(id, id);
    table.delete(2 ** 31 - 2);
    expect(ids.map((id) => table.get(id))).toEqual([2 ** 31 - 1, undefined, 2 ** 30, 1, 2 ** 31 - 1 - 16]);
    expect(table.size).toBe(4);
  });
});
