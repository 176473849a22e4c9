import { describe, expect, it } from "vitest";
import { createMockClock } from "../../../src/testing/index.js";

describe("createMockClock", () => {
  it("runs due timers in time order, ties in scheduling order, when advanced", () => {
    const clock = createMockClock(1_000);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push("b@20"), 20);
    clock.setTimeout(() => ran.push("a@10"), 10);
    clock.setTimeout(() => ran.push("c@20"), 20);
    clock.setTimeout(() => ran.push("late@50"), 50);
    clock.advance(20);
    expect(ran).toEqual(["a@10", "b@20", "c@20"]);
    expect(clock.now()).toBe(1_020);
    expect(clock.pendingTimers).toBe(1);
  });

  it("runs a timer scheduled by a timer when it falls inside the same advance", () => {
    const clock = createMockClock(0);
    const at: number[] = [];
    clock.setTimeout(() => {
      at.push(clock.now());
      clock.setTimeout(() => at.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(at).toEqual([5, 10]);
  });

  it("jumps without running timers, and a later advance(0) runs the ones due", () => {
    const clock = createMockClock(0);
    let fired = 0;
    clock.setTimeout(() => fired++, 10);
    clock.jump(30);
    expect(clock.now()).toBe(30);
    expect(fired).toBe(0);
    clock.advance(0);
    expect(fired).toBe(1);
    expect(clock.now()).toBe(30);
  });

  it("runNext moves to the next timer; cleared timers never run", () => {
    const clock = createMockClock(100);
    let fired = 0;
    const cleared = clock.setTimeout(() => fired--, 5);
    clock.setTimeout(() => fired++, 40);
    clock.clearTimeout(cleared);
    expect(clock.runNext()).toBe(true);
    expect(clock.now()).toBe(140);
    expect(fired).toBe(1);
    expect(clock.runNext()).toBe(false);
  });

  it("rejects a negative or fractional start and a negative step", () => {
    expect(() => createMockClock(-1)).toThrow(RangeError);
    expect(() => createMockClock(1.5)).toThrow(RangeError);
    const clock = createMockClock(0);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.jump(Number.NaN)).toThrow(RangeError);
  });
});
