import { create, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { resolveReconnectPolicy } from "../../src/subscription/backoff.js";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../src/codec/resume.js";
import { type GetWeatherRequestSchema, type WeatherResponse, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import type { PageLifecycle } from "../../src/subscription/page-lifecycle.js";
import type { SourceSink, StreamSource } from "../../src/subscription/source.js";
import type { SubscriptionState, TransportKind } from "../../src/subscription/state.js";
import { createSubscription } from "../../src/subscription/subscription.js";
import { createTransportChooser } from "../../src/subscription/transport-chooser.js";
import { transportOpenFailure } from "../../src/transport/open-error.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { microtasks } from "../helpers/fake-web-socket.js";

type Out = typeof WeatherResponseSchema;

interface Attempt {
  transport: TransportKind;
  header: Headers;
  sink: SourceSink<MessageShape<Out>>;
  cancelled: boolean;
  paused: boolean;
}

function scriptedSources() {
  const attempts: Attempt[] = [];
  const source = (transport: TransportKind): StreamSource<typeof GetWeatherRequestSchema, Out> => ({
    transport,
    open(_request, header, sink) {
      const attempt: Attempt = { transport, header, sink, cancelled: false, paused: false };
      attempts.push(attempt);
      return {
        cancel: () => (attempt.cancelled = true),
        pause: () => (attempt.paused = true),
        resume: () => (attempt.paused = false),
      };
    },
  });
  const last = () => {
    const a = attempts.at(-1);
    if (a === undefined) throw new Error("no attempt yet");
    return a;
  };
  return { attempts, source, last };
}

function fakeLifecycle() {
  let online = true;
  let visible = true;
  const listeners = new Set<() => void>();
  const lifecycle: PageLifecycle = {
    online: () => online,
    visible: () => visible,
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const set = (o: boolean, v: boolean) => {
    online = o;
    visible = v;
    for (const l of listeners) l();
  };
  return { lifecycle, set, listeners };
}

const reading = (ms: number): WeatherResponse => create(WeatherResponseSchema, { timestamp: BigInt(ms), temperature: ms / 1000 });

function setup(order: TransportKind[] = ["websocket", "connect", "sse"], maxAttempts = Number.POSITIVE_INFINITY) {
  const sources = scriptedSources();
  const clock = createFakeClock(0);
  const life = fakeLifecycle();
  const abort = new AbortController();
  const sub = createSubscription({
    source: sources.source,
    chooser: createTransportChooser(order),
    request: { cityCode: "NYC" },
    headers: () => ({ authorization: "Bearer t" }),
    cursor: (m) => m.timestamp,
    resumeAfterHeader: RESUME_AFTER_HEADER,
    resumeStatusHeader: RESUME_STATUS_HEADER,
    policy: resolveReconnectPolicy({ initialDelayMs: 1000, maxDelayMs: 8000, maxAttempts }),
    clock,
    random: () => 0.5,
    lifecycle: life.lifecycle,
    signal: abort.signal,
    highWaterMark: 4,
  });
  const states: SubscriptionState[] = [];
  sub.onState((s) => states.push(s));
  const seen: bigint[] = [];
  sub.onMessage((m) => seen.push(m.timestamp));
  return { sub, clock, life, abort, states, seen, ...sources };
}

const unavailable = () => new ConnectError("connection lost", Code.Unavailable);

describe("subscription", () => {
  it("connects after the caller attached listeners, and reports open", async () => {
    const { sub, states, last, attempts } = setup();
    expect(sub.state).toEqual({ kind: "connecting", transport: "websocket", attempt: 1 });
    expect(attempts).toHaveLength(0);
    await microtasks();
    expect(last().header.get("authorization")).toBe("Bearer t");
    expect(last().header.has(RESUME_AFTER_HEADER)).toBe(false);
    last().sink.onOpen(new Headers());
    expect(states.map((s) => s.kind)).toEqual(["connecting", "open"]);
    expect(sub.state).toMatchObject({ kind: "open", transport: "websocket", recovered: true });
  });

  it("resumes after the last delivered cursor, drops duplicates, and reports recovery", async () => {
    const { sub, clock, states, seen, last, attempts } = setup();
    await microtasks();
    last().sink.onOpen(new Headers());
    for (const t of [1000, 2000, 3000]) last().sink.onMessage(reading(t));
    last().sink.onEnd(unavailable());
    expect(sub.state).toMatchObject({ kind: "reconnecting", attempt: 1, delayMs: 500 });
    clock.advance(499);
    expect(attempts).toHaveLength(1);
    clock.advance(1);
    expect(attempts).toHaveLength(2);
    expect(last().header.get(RESUME_AFTER_HEADER)).toBe("3000");
    last().sink.onOpen(new Headers({ [RESUME_STATUS_HEADER]: "recovered" }));
    // The server replays from its history; anything at or before the cursor is dropped.
    for (const t of [2000, 3000, 4000, 5000]) last().sink.onMessage(reading(t));
    expect(seen).toEqual([1000n, 2000n, 3000n, 4000n, 5000n]);
    expect(sub.cursor).toBe(5000n);
    expect(states.at(-1)).toMatchObject({ kind: "open", recovered: true });
  });

  it("says recovered: false when the server could not replay everything", async () => {
    const { sub, clock, last } = setup();
    await microtasks();
    last().sink.onOpen(new Headers());
    last().sink.onMessage(reading(1000));
    last().sink.onEnd(unavailable());
    clock.advance(500);
    last().sink.onOpen(new Headers({ [RESUME_STATUS_HEADER]: "gap" }));
    expect(sub.state).toMatchObject({ kind: "open", recovered: false });
  });

  it("backs off exponentially with jitter while attempts keep failing, and resets after success", async () => {
    const { sub, clock, last } = setup();
    await microtasks();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      last().sink.onEnd(unavailable());
      if (sub.state.kind !== "reconnecting") throw new Error("expected reconnecting");
      delays.push(sub.state.delayMs);
      clock.advance(sub.state.delayMs);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);
    last().sink.onOpen(new Headers());
    last().sink.onEnd(unavailable());
    expect(sub.state).toMatchObject({ kind: "reconnecting", attempt: 1, delayMs: 500 });
  });

  it("closes with the error on codes retrying cannot fix", async () => {
    const { sub, last } = setup();
    await microtasks();
    const fatal = new ConnectError("no such city", Code.InvalidArgument);
    last().sink.onEnd(fatal);
    expect(sub.state).toEqual({ kind: "closed", reason: "error", error: fatal });
    const it = sub[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toBe(fatal);
  });

  it("gives up after maxAttempts failed attempts in a row", async () => {
    const { sub, clock, last } = setup(["websocket"], 3);
    await microtasks();
    last().sink.onEnd(unavailable());
    clock.advance(10_000);
    last().sink.onEnd(unavailable());
    clock.advance(10_000);
    last().sink.onEnd(unavailable());
    expect(sub.state).toMatchObject({ kind: "closed", reason: "error" });
  });

  it("falls back at once to the next transport when one never opens, and says so in state", async () => {
    const { sub, states, last, attempts } = setup();
    await microtasks();
    last().sink.onEnd(transportOpenFailure("upgrade refused"));
    expect(attempts.map((a) => a.transport)).toEqual(["websocket", "connect"]);
    last().sink.onEnd(transportOpenFailure("proxy page"));
    expect(attempts.map((a) => a.transport)).toEqual(["websocket", "connect", "sse"]);
    last().sink.onOpen(new Headers());
    expect(sub.state).toMatchObject({ kind: "open", transport: "sse" });
    expect(states.flatMap((s) => (s.kind === "connecting" ? [s.transport] : []))).toEqual(["websocket", "connect", "sse"]);
    // Once open, a lost connection reconnects over the transport that worked.
    last().sink.onEnd(unavailable());
    expect(sub.state).toMatchObject({ kind: "reconnecting", transport: "sse" });
  });

  it("backs off when every transport failed to open", async () => {
    const { sub, last, attempts } = setup(["websocket", "sse"]);
    await microtasks();
    last().sink.onEnd(transportOpenFailure("a"));
    last().sink.onEnd(transportOpenFailure("b"));
    expect(attempts).toHaveLength(2);
    expect(sub.state).toMatchObject({ kind: "reconnecting", attempt: 1 });
  });

  it("reconnectNow skips the backoff wait, counts as the next attempt, and does nothing outside reconnecting", async () => {
    const { sub, clock, last, attempts } = setup();
    expect(sub.reconnectNow()).toBe(false); // connecting: nothing to skip
    await microtasks();
    last().sink.onOpen(new Headers());
    last().sink.onMessage(reading(1000));
    expect(sub.reconnectNow()).toBe(false); // open
    const lost = last();
    lost.sink.onEnd(unavailable());
    expect(sub.state).toMatchObject({ kind: "reconnecting", attempt: 1, delayMs: 500 });
    expect(sub.reconnectNow()).toBe(true);
    expect(attempts).toHaveLength(2);
    expect(sub.state).toEqual({ kind: "connecting", transport: "websocket", attempt: 2 });
    expect(last().header.get(RESUME_AFTER_HEADER)).toBe("1000");
    // The skipped timer never fires a second attempt.
    clock.advance(60_000);
    expect(attempts).toHaveLength(2);
    // A failure now backs off as the second attempt would.
    last().sink.onEnd(unavailable());
    expect(sub.state).toMatchObject({ kind: "reconnecting", attempt: 2, delayMs: 1000 });
    lost.sink.onOpen(new Headers()); // the old attempt's late callbacks are ignored
    expect(sub.state.kind).toBe("reconnecting");
    sub.close();
    expect(sub.reconnectNow()).toBe(false);
    expect(attempts).toHaveLength(2);
  });

  it("reconnectNow also ends a wait for the page to be online or visible", async () => {
    const { sub, life, last, attempts } = setup();
    await microtasks();
    life.set(false, true);
    last().sink.onEnd(unavailable());
    expect(sub.state).toMatchObject({ kind: "reconnecting", waitingFor: "online" });
    expect(sub.reconnectNow()).toBe(true);
    expect(attempts).toHaveLength(2);
  });

  it("starts after a given cursor: resume header on the first request, nothing at or before it delivered", async () => {
    const sources = scriptedSources();
    const sub = createSubscription({
      source: sources.source,
      chooser: createTransportChooser(["sse"]),
      request: { cityCode: "NYC" },
      headers: () => ({}),
      cursor: (m) => m.timestamp,
      resumeAfterHeader: RESUME_AFTER_HEADER,
      resumeStatusHeader: RESUME_STATUS_HEADER,
      policy: resolveReconnectPolicy(undefined),
      clock: createFakeClock(0),
      random: () => 0.5,
      lifecycle: fakeLifecycle().lifecycle,
      signal: undefined,
      highWaterMark: 4,
      after: 2000n,
    });
    const seen: bigint[] = [];
    sub.onMessage((m) => seen.push(m.timestamp));
    expect(sub.cursor).toBe(2000n);
    await microtasks();
    expect(sources.last().header.get(RESUME_AFTER_HEADER)).toBe("2000");
    sources.last().sink.onOpen(new Headers({ [RESUME_STATUS_HEADER]: "gap" }));
    expect(sub.state).toMatchObject({ kind: "open", recovered: false });
    for (const t of [1000, 2000, 3000]) sources.last().sink.onMessage(reading(t));
    expect(seen).toEqual([3000n]);
    sub.close();
  });

  it("holds reconnects while offline or hidden and catches up as soon as both are back", async () => {
    const { sub, clock, life, last, attempts } = setup();
    await microtasks();
    last().sink.onOpen(new Headers());
    life.set(false, true);
    last().sink.onEnd(unavailable());
    expect(sub.state).toMatchObject({ kind: "reconnecting", waitingFor: "online" });
    clock.advance(60_000);
    expect(attempts).toHaveLength(1); // no storm while offline
    life.set(true, false);
    expect(sub.state).toMatchObject({ kind: "reconnecting", waitingFor: "visible" });
    clock.advance(60_000);
    expect(attempts).toHaveLength(1);
    life.set(true, true);
    expect(attempts).toHaveLength(2);
    expect(sub.state).toMatchObject({ kind: "connecting" });
  });

  it("stops waiting for a backoff timer when the page goes away, and reconnects on return", async () => {
    const { sub, clock, life, last, attempts } = setup();
    await microtasks();
    last().sink.onEnd(unavailable());
    expect(sub.state).toMatchObject({ kind: "reconnecting", delayMs: 500 });
    life.set(true, false);
    clock.advance(10_000);
    expect(attempts).toHaveLength(1);
    life.set(true, true);
    expect(attempts).toHaveLength(2);
  });

  it("closes on abort: cancels the attempt, finishes loops, stops listening to the page", async () => {
    const { sub, abort, life, last } = setup();
    const it = sub[Symbol.asyncIterator]();
    await microtasks();
    abort.abort();
    expect(last().cancelled).toBe(true);
    expect(sub.state).toEqual({ kind: "closed", reason: "closed" });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(life.listeners.size).toBe(0);
  });

  it("ends with reason completed when the server ends the stream cleanly", async () => {
    const { sub, last } = setup();
    const received: bigint[] = [];
    const loop = (async () => {
      for await (const m of sub) received.push(m.timestamp);
    })();
    await microtasks();
    last().sink.onMessage(reading(1));
    last().sink.onEnd(undefined);
    await loop;
    expect(received).toEqual([1n]);
    expect(sub.state).toEqual({ kind: "closed", reason: "completed" });
  });

  it("pauses the network stream when a for-await loop falls behind, and resumes when it catches up", async () => {
    const { sub, last } = setup();
    const it = sub[Symbol.asyncIterator]();
    await microtasks();
    for (let t = 1; t <= 4; t++) last().sink.onMessage(reading(t));
    expect(last().paused).toBe(true);
    await it.next();
    expect(last().paused).toBe(true);
    await it.next();
    expect(last().paused).toBe(false); // back to half the high-water mark
  });

  it("closes when a for-await loop is left early", async () => {
    const { sub, last } = setup();
    await microtasks();
    const loop = (async () => {
      for await (const m of sub) {
        if (m.timestamp === 2n) break;
      }
    })();
    last().sink.onMessage(reading(1));
    last().sink.onMessage(reading(2));
    await loop;
    expect(sub.state).toEqual({ kind: "closed", reason: "closed" });
    expect(last().cancelled).toBe(true);
  });

  it("ignores callbacks from an attempt it already gave up on", async () => {
    const { sub, clock, seen, attempts } = setup();
    await microtasks();
    const first = attempts[0];
    if (first === undefined) throw new Error("no attempt");
    first.sink.onEnd(unavailable());
    clock.advance(500);
    first.sink.onMessage(reading(99)); // late event from the old stream
    first.sink.onOpen(new Headers());
    expect(seen).toEqual([]);
    expect(sub.state.kind).toBe("connecting");
  });

  it("keeps delivering to other listeners when one throws", async () => {
    const { sub, seen, last } = setup();
    sub.onMessage(() => {
      throw new Error("listener bug");
    });
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on("uncaughtException", onError);
    try {
      await microtasks();
      last().sink.onMessage(reading(1));
      last().sink.onMessage(reading(2));
      await microtasks();
    } finally {
      process.off("uncaughtException", onError);
    }
    expect(seen).toEqual([1n, 2n]);
  });
});
