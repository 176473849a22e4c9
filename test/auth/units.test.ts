// The auth building blocks on their own: the SSE ticket store on a fake
// clock, and the client's credential source (refresh shared by concurrent
// callers, versions).
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createSseTickets } from "../../src/server/index.js";
import { createAuthSource } from "../../src/transport/auth.js";
import { createFakeClock } from "../helpers/fake-clock.js";

function codeOfThrow(f: () => unknown): Code | undefined {
  try {
    f();
  } catch (e) {
    return ConnectError.from(e).code;
  }
  return undefined;
}

describe("createSseTickets", () => {
  it("redeems a ticket once, within its time", () => {
    const clock = createFakeClock(1_000_000);
    const tickets = createSseTickets({ ttlMs: 1000, clock });
    const a = tickets.issue({ user: "a" });
    const b = tickets.issue({ user: "b" });
    expect(a.ticket).not.toBe(b.ticket);
    expect(tickets.redeem(a.ticket)).toEqual({ user: "a" });
    expect(codeOfThrow(() => tickets.redeem(a.ticket))).toBe(Code.Unauthenticated);
    clock.advance(1000);
    expect(codeOfThrow(() => tickets.redeem(b.ticket))).toBe(Code.Unauthenticated);
    expect(codeOfThrow(() => tickets.redeem("made-up"))).toBe(Code.Unauthenticated);
    expect(tickets.outstanding).toBe(0);
  });

  it("caps tickets waiting to be used with ResourceExhausted; expired ones make room", () => {
    const clock = createFakeClock(0);
    const tickets = createSseTickets({ ttlMs: 100, maxOutstanding: 2, clock });
    tickets.issue(1);
    clock.advance(50);
    tickets.issue(2);
    expect(codeOfThrow(() => tickets.issue(3))).toBe(Code.ResourceExhausted);
    clock.advance(50); // the first expired
    expect(tickets.issue(3).expiresInMs).toBe(100);
    expect(tickets.outstanding).toBe(2);
  });

  it("validates its options", () => {
    expect(() => createSseTickets({ ttlMs: 0 })).toThrow(RangeError);
    expect(() => createSseTickets({ maxOutstanding: 1.5 })).toThrow(RangeError);
  });
});

describe("createAuthSource", () => {
  it("a string is a bearer token, headers pass as they are; fixed credentials never refresh", async () => {
    expect(await createAuthSource("abc").headers()).toEqual([["authorization", "Bearer abc"]]);
    const fixed = createAuthSource({ "X-Api-Key": "k" });
    expect(await fixed.headers()).toEqual([["x-api-key", "k"]]);
    expect(await fixed.refresh(fixed.version)).toBe(false);
  });

  it("concurrent refreshes ask the provider once; a refresh older than the current credentials is already satisfied", async () => {
    let n = 0;
    const asked: boolean[] = [];
    const source = createAuthSource(async ({ refresh }) => {
      asked.push(refresh);
      await Promise.resolve();
      return refresh ? `token-${++n}` : "token-0";
    });
    expect(await source.headers()).toEqual([["authorization", "Bearer token-0"]]);
    const version = source.version;
    expect(await Promise.all([source.refresh(version), source.refresh(version), source.refresh(version)])).toEqual([true, true, true]);
    expect(asked).toEqual([false, true]);
    expect(await source.refresh(version)).toBe(true); // replaced since `version`: no question
    expect(asked).toEqual([false, true]);
    expect(await source.headers()).toEqual([["authorization", "Bearer token-1"]]);
  });

  it("a refresh that gives the same credentials, or fails, is false", async () => {
    const same = createAuthSource(() => "t");
    await same.headers();
    expect(await same.refresh(same.version)).toBe(false);
    const failing = createAuthSource(({ refresh }) => (refresh ? Promise.reject(new Error("offline")) : "t"));
    await failing.headers();
    expect(await failing.refresh(failing.version)).toBe(false);
  });
});
