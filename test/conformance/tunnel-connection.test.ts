// Conformance, the connection (PROTOCOL.md §1.1–1.3, §1.7–1.9): upgrade,
// batches, hello and authentication, keepalive, shutdown. Runs against
// TUNNEL_URL when set, else against a reference server it starts.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { TUNNEL_SUBPROTOCOL } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema } from "../../src/gen/weather_pb.js";
import { connectRawTunnel, dataFrame, upgradeStatus, WEATHER } from "../helpers/raw-tunnel.js";
import { referenceOnly, roundTrip, startReference, useTarget } from "./target.js";
import { loadVectors, unhex } from "./vectors.js";

const target = useTarget();
const vectors = loadVectors();
const getWeather = (id: Readonly<number>) =>
  [
    { kind: "open", streamId: id, path: WEATHER.getWeather, headers: [], initialWindow: 0 },
    dataFrame(id, GetWeatherRequestSchema, { cityCode: "NYC" }),
    { kind: "halfClose", streamId: id },
  ] as const;

describe("§1.1 connecting", () => {
  it("refuses an upgrade that does not offer weather-tunnel.v1 with HTTP 400", async () => {
    expect(await upgradeStatus(target.url(), [])).toBe(400);
    expect(await upgradeStatus(target.url(), ["weather-tunnel.v2"])).toBe(400);
  });

  it("accepts one that offers it among others, and selects it", async () => {
    expect(await upgradeStatus(target.url(), ["other", TUNNEL_SUBPROTOCOL])).toBe(101);
    expect((await target.connect()).protocol).toBe(TUNNEL_SUBPROTOCOL);
  });

  it("closes with 1003 on a text message", async () => {
    const t = await target.connect();
    t.sendRaw("hello");
    expect((await t.closed).code).toBe(1003);
  });
});

describe("§1.2 messages and frames", () => {
  it("skips unknown fields and unknown frame kinds (every tolerated vector)", async () => {
    const t = await target.connect();
    for (const v of vectors.tolerated.vectors) t.sendRaw(unhex(v.hex));
    await roundTrip(t, 424_242);
    // The vectors' pings were answered too: they are frames of known kinds inside tolerated bytes.
    expect(t.frames.filter((f) => f.kind === "pong" && f.payload === 7).length).toBeGreaterThan(0);
  });

  it.each(vectors.malformed.vectors.map((v) => [v.name, v] as const))("closes with 1002 on a malformed batch: %s", async (_name, v) => {
    const t = await target.connect();
    t.sendRaw(unhex(v.hex));
    expect((await t.closed).code).toBe(1002);
  });

  it("handles the frames of one message in order: the worked example's first message, byte for byte", async () => {
    const example = vectors.canonical.vectors.find((v) => v.name === "unary-client");
    if (example === undefined) throw new Error("vector unary-client is missing");
    const t = await target.connect({ hello: false });
    t.sendRaw(unhex(example.hex));
    expect(await t.end(1)).toMatchObject({ code: 0 });
    expect(t.dataOf(1).flatMap((d) => d.messages)).toHaveLength(1);
  });
});

describe("§1.3 the connection and hello", () => {
  it("closes with 1002 when the first frame is not hello", async () => {
    const t = await target.connect({ hello: false });
    t.send([...getWeather(1)]);
    expect((await t.closed).code).toBe(1002);
  });

  it("does not acknowledge hello: the first frame it sends answers something else", async () => {
    const t = await target.connect();
    await roundTrip(t, 1);
    expect(t.frames[0]).toEqual({ kind: "pong", streamId: 0, payload: 1 });
  });

  it("ignores a repeated hello", async () => {
    const t = await target.connect();
    t.send([{ kind: "hello", streamId: 0, headers: [["x-again", "1"]] }]);
    t.send([...getWeather(1)]);
    expect(await t.end(1)).toMatchObject({ code: 0 });
  });

  it("closes with 1002 when hello carries an invalid header field", async () => {
    const t = await target.connect({ hello: [["bad name", "x"]] });
    t.send([...getWeather(1)]);
    const first = await Promise.race([
      t.closed.then((c) => `close ${c.code}`),
      t.end(1).then(
        (end) => `end of stream 1 with code ${end.code}`,
        () => "closed",
      ),
    ]);
    expect(first).toBe("close 1002");
  });
});

referenceOnly("§1.3 an asynchronous authenticate hook (reference server)", () => {
  /** A hook that settles when the test says so. */
  function gate() {
    let called: (headers: Headers) => void = () => undefined;
    const calls = new Promise<Headers>((resolve) => (called = resolve));
    let settle: (error?: Error) => void = () => undefined;
    const verdict = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));
    const authenticate = (headers: Headers) => {
      called(headers);
      return verdict;
    };
    return { authenticate, calls, settle };
  }
  const helloAndCall = [
    { kind: "hello", streamId: 0, headers: [["authorization", "Bearer t"]] },
    ...getWeather(1),
    { kind: "ping", streamId: 0, payload: 9 },
  ] as const;

  it("holds the frames that follow hello until the hook accepts, then handles them in order", async () => {
    const hook = gate();
    const server = await startReference({ tunnel: { authenticate: hook.authenticate } });
    try {
      const t = await connectRawTunnel(server.url, { hello: false });
      t.send([...helloAndCall]);
      expect((await hook.calls).get("authorization")).toBe("Bearer t");
      hook.settle();
      expect(await t.end(1)).toMatchObject({ code: 0 });
      await t.waitFor("pong 9", (f) => f.kind === "pong" && f.payload === 9);
      t.close();
    } finally {
      await server.close();
    }
  });

  it.each([
    [new ConnectError("who are you?", Code.Unauthenticated), 4401],
    [new ConnectError("not you", Code.PermissionDenied), 4403],
    [new Error("any other failure"), 4401],
  ])("closes when the hook rejects (%s → %i), having handled none of the held frames", async (error, code) => {
    const hook = gate();
    const server = await startReference({ tunnel: { authenticate: hook.authenticate } });
    try {
      const t = await connectRawTunnel(server.url, { hello: false });
      t.send([...helloAndCall]);
      await hook.calls;
      hook.settle(error);
      expect((await t.closed).code).toBe(code);
      expect(t.frames).toEqual([]); // no pong, no end: the held frames were dropped
    } finally {
      await server.close();
    }
  });
});

describe("§1.7 keepalive", () => {
  it.each([1, 2 ** 32, 2 ** 53 - 1])("answers ping %i with a pong of the same payload", async (payload) => {
    const t = await target.connect();
    await roundTrip(t, payload);
  });
});

referenceOnly("§1.7–1.9 keepalive timeout, limits of the connection, shutdown (reference server)", () => {
  it("closes with 4000 when nothing arrives for keepaliveTimeoutMs", async () => {
    const server = await startReference({ tunnel: { keepaliveTimeoutMs: 200 } });
    try {
      const t = await connectRawTunnel(server.url);
      expect((await t.closed).code).toBe(4000);
    } finally {
      await server.close();
    }
  });

  it("refuses an upgrade from an origin it does not allow with HTTP 403", async () => {
    const server = await startReference({ allowedOrigins: ["https://app.example.com"] });
    try {
      expect(await upgradeStatus(server.url, [TUNNEL_SUBPROTOCOL], "https://evil.example.com")).toBe(403);
      expect(await upgradeStatus(server.url, [TUNNEL_SUBPROTOCOL], "https://app.example.com")).toBe(101);
    } finally {
      await server.close();
    }
  });

  it("on shutdown sends go_away with the highest stream id it saw, ends open streams with Unavailable, closes with 1001", async () => {
    const server = await startReference();
    const t = await connectRawTunnel(server.url);
    t.send([
      { kind: "open", streamId: 1, path: WEATHER.subscribeWeather, headers: [], initialWindow: 0 },
      dataFrame(1, GetWeatherRequestSchema, { cityCode: "NYC" }),
      { kind: "halfClose", streamId: 1 },
      { kind: "open", streamId: 4, path: "/no.Such/Method", headers: [], initialWindow: 0 },
    ]);
    await t.waitFor("data on stream 1", (f) => f.kind === "data" && f.streamId === 1);
    expect(await t.end(4)).toMatchObject({ code: Code.Unimplemented });
    const closing = server.close();
    const goAway = await t.waitFor("go_away", (f) => f.kind === "goAway");
    expect(goAway).toMatchObject({ lastStreamId: 4 }); // stream 4 ended at once, yet it was seen
    const end = await t.end(1);
    expect(end.code).toBe(Code.Unavailable);
    expect(t.frames.indexOf(end)).toBeGreaterThan(t.frames.indexOf(goAway));
    expect((await t.closed).code).toBe(1001);
    await closing;
  });
});
