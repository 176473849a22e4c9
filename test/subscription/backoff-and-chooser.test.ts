import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { backoffDelayMs, DEFAULT_RECONNECT_POLICY, resolveReconnectPolicy } from "../../src/subscription/backoff.js";
import { canCarry, createTransportChooser } from "../../src/subscription/transport-chooser.js";

describe("backoff with full jitter", () => {
  const policy = DEFAULT_RECONNECT_POLICY;

  it("spreads delays between 0 and an exponentially growing bound", () => {
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(policy, a, () => 0.999999))).toEqual([499, 999, 1999, 3999]);
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(1000);
  });

  it("caps the bound at maxDelayMs", () => {
    expect(backoffDelayMs(policy, 30, () => 0.999999)).toBe(29_999);
    expect(backoffDelayMs(policy, 10_000, () => 0.5)).toBe(15_000);
  });

  it("rejects nonsense policies with a message that says what is allowed", () => {
    expect(() => resolveReconnectPolicy({ initialDelayMs: 5000, maxDelayMs: 100 })).toThrow(/initialDelayMs ≤ maxDelayMs/);
    expect(() => resolveReconnectPolicy({ multiplier: 0.5 })).toThrow(RangeError);
    expect(resolveReconnectPolicy({ maxAttempts: 3 }).maxAttempts).toBe(3);
  });
});

describe("transport chooser", () => {
  it("knows what each transport can carry in a browser", () => {
    expect(canCarry("websocket", "bidi_streaming")).toBe(true);
    expect(canCarry("connect", "client_streaming")).toBe(false);
    expect(canCarry("sse", "server_streaming")).toBe(true);
  });

  it("starts with the first capable transport and falls back in order when one never opens", () => {
    const chooser = createTransportChooser(["websocket", "connect", "sse"]);
    expect(chooser.pick("server_streaming")).toBe("websocket");
    expect(chooser.failedToOpen("websocket", "server_streaming")).toBe(true);
    expect(chooser.pick("server_streaming")).toBe("connect");
    expect(chooser.failedToOpen("connect", "server_streaming")).toBe(true);
    expect(chooser.pick("server_streaming")).toBe("sse");
    // All failed this round: back off, then start over.
    expect(chooser.failedToOpen("sse", "server_streaming")).toBe(false);
    expect(chooser.pick("server_streaming")).toBe("websocket");
  });

  it("sticks with the transport that opened until it fails to open", () => {
    const chooser = createTransportChooser(["websocket", "connect", "sse"]);
    chooser.failedToOpen("websocket", "unary");
    chooser.opened("connect");
    expect(chooser.preferred).toBe("connect");
    expect(chooser.pick("unary")).toBe("connect");
    expect(chooser.pick("server_streaming")).toBe("connect");
    // Bidi needs the tunnel whatever is preferred.
    expect(chooser.pick("bidi_streaming")).toBe("websocket");
    chooser.failedToOpen("connect", "unary");
    expect(chooser.preferred).toBeUndefined();
    expect(chooser.pick("unary")).toBe("websocket");
  });

  it("fails at once, naming transports and kinds, when nothing listed can carry a call", () => {
    const chooser = createTransportChooser(["connect", "sse"]);
    let error: unknown;
    try {
      chooser.pick("bidi_streaming");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unimplemented);
    expect((error as ConnectError).rawMessage).toBe(
      "no configured transport can make bidi streaming calls: transports are [connect, sse], and only [websocket] can; add one to the client's `transports` option",
    );
  });
});
