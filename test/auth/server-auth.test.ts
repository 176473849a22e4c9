// One `authenticate` hook on every server transport: Connect, gRPC and
// gRPC-Web over HTTP (connect-node), the WebSocket tunnel (hello and a
// stream's own authorization), SSE POST and SSE GET with a single-use ticket.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetWeatherRequestSchema } from "../../src/gen/weather_pb.js";
import { createWeatherServer } from "../../src/server/index.js";
import {
  codeOf,
  HTTP1_PROTOCOL_NAMES,
  PROTOCOL_NAMES,
  streamCodeOf,
  take,
  weatherClient,
  type ProtocolName,
} from "../helpers/connect-node.js";
import { createFakeClock } from "../helpers/fake-clock.js";
import { dataFrame, openRawTunnel, streamOpener, WEATHER } from "../helpers/raw-tunnel.js";
import { startServer } from "../helpers/server.js";
import { createTestAuthenticate, echoPrincipal } from "./helpers.js";

const auth = createTestAuthenticate();
let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer({ tickMs: 20, authenticate: auth.authenticate, interceptors: [echoPrincipal] });
});

afterAll(async () => {
  await server.close();
});

function withAuth(token: string | undefined): { headers: Record<string, string> } {
  return { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } };
}

const cases: Array<[ProtocolName, "1.1" | "2"]> = [
  ...HTTP1_PROTOCOL_NAMES.map((p): [ProtocolName, "1.1"] => [p, "1.1"]),
  ...PROTOCOL_NAMES.map((p): [ProtocolName, "2"] => [p, "2"]),
];

describe.each(cases)("%s over HTTP/%s", (protocol, httpVersion) => {
  it("refuses a call without credentials with Unauthenticated, a denied token with PermissionDenied", async () => {
    const { client, close } = weatherClient(protocol, server.url, httpVersion);
    try {
      expect(await codeOf(client.getWeather({ cityCode: "NYC" }))).toBe(Code.Unauthenticated);
      expect(await codeOf(client.getWeather({ cityCode: "NYC" }, withAuth("expired")))).toBe(Code.Unauthenticated);
      expect(await codeOf(client.getWeather({ cityCode: "NYC" }, withAuth("denied")))).toBe(Code.PermissionDenied);
      expect(await streamCodeOf(client.subscribeWeather({ cityCode: "NYC" }))).toBe(Code.Unauthenticated);
    } finally {
      close();
    }
  });

  it("lets an authenticated call through; the handler sees the principal in ctx.values", async () => {
    const { client, close } = weatherClient(protocol, server.url, httpVersion);
    try {
      let principal: string | null = null;
      const before = auth.calls;
      await client.getWeather({ cityCode: "NYC" }, { ...withAuth("alice"), onHeader: (h) => (principal = h.get("x-principal")) });
      expect(principal).toBe("alice");
      expect(auth.calls - before, "checked once, before dispatch; the interceptor lets it through").toBe(1);
      const readings = await take(2, (signal) => client.subscribeWeather({ cityCode: "NYC" }, { ...withAuth("bob"), signal }));
      expect(readings).toHaveLength(2);
    } finally {
      close();
    }
  });
});

describe("tunnel", () => {
  it("authenticates hello once for the connection; streams see its principal", async () => {
    const before = auth.calls;
    const tunnel = await openRawTunnel(server.url, { hello: [["authorization", "Bearer carol"]] });
    const open = streamOpener();
    const a = open(WEATHER.getWeather);
    const b = open(WEATHER.getWeather);
    tunnel.send([a.frame, dataFrame(a.id, GetWeatherRequestSchema, { cityCode: "NYC" }), { kind: "halfClose", streamId: a.id }]);
    tunnel.send([b.frame, dataFrame(b.id, GetWeatherRequestSchema, { cityCode: "LON" }), { kind: "halfClose", streamId: b.id }]);
    const headersOf = (id: number) => tunnel.waitFor(`headers of ${id}`, (f) => f.kind === "headers" && f.streamId === id);
    const [ha, hb] = await Promise.all([headersOf(a.id), headersOf(b.id)]);
    for (const h of [ha, hb]) expect(h.kind === "headers" && h.headers).toContainEqual(["x-principal", "carol"]);
    expect((await tunnel.end(a.id)).code).toBe(0);
    expect(auth.calls - before).toBe(1);
    tunnel.close();
  });

  it("closes a connection whose hello has no credentials with 4401, a denied one with 4403", async () => {
    const anonymous = await openRawTunnel(server.url);
    const denied = await openRawTunnel(server.url, { hello: [["authorization", "Bearer denied"]] });
    expect(await anonymous.closed).toEqual({ code: 4401, reason: "send Authorization: Bearer <token>" });
    expect(await denied.closed).toEqual({ code: 4403, reason: "this token may not read the weather" });
  });

  it("a stream's own authorization wins over hello's: checked for that stream only", async () => {
    const tunnel = await openRawTunnel(server.url, { hello: [["authorization", "Bearer carol"]] });
    const open = streamOpener();
    const own = open(WEATHER.getWeather, [["authorization", "Bearer dave"]]);
    const refused = open(WEATHER.getWeather, [["authorization", "Bearer denied"]]);
    const plain = open(WEATHER.getWeather);
    for (const s of [own, refused, plain]) {
      tunnel.send([s.frame, dataFrame(s.id, GetWeatherRequestSchema, { cityCode: "NYC" }), { kind: "halfClose", streamId: s.id }]);
    }
    const principalOf = async (id: number) => {
      const h = await tunnel.waitFor(`headers of ${id}`, (f) => f.kind === "headers" && f.streamId === id);
      return h.kind === "headers" ? new Headers(h.headers as [string, string][]).get("x-principal") : null;
    };
    expect(await principalOf(own.id)).toBe("dave");
    expect(await principalOf(plain.id)).toBe("carol");
    const end = await tunnel.end(refused.id);
    expect(end.code).toBe(Code.PermissionDenied);
    expect((await tunnel.end(plain.id)).code).toBe(0);
    tunnel.close();
  });
});

describe("SSE", () => {
  const subscribeUrl = (query: string) =>
    `${server.url}/sse/weather.WeatherService/SubscribeWeather?encoding=json&message=${encodeURIComponent('{"cityCode":"NYC"}')}${query}`;

  it("POST: refused without credentials (401, unauthenticated) or with a denied token (403)", async () => {
    const post = (token?: string) =>
      fetch(`${server.url}/sse/weather.WeatherService/GetWeather`, {
        method: "POST",
        headers: { "content-type": "application/json", ...withAuth(token).headers },
        body: '{"cityCode":"NYC"}',
      });
    const anonymous = await post();
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: "unauthenticated" });
    const denied = await post("denied");
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: "permission_denied" });
    const ok = await post("erin");
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("event: end");
  });

  it("GET: without credentials 401; a ticket from POST /sse/ticket opens one stream, once", async () => {
    expect((await fetch(subscribeUrl(""))).status).toBe(401);
    expect((await fetch(`${server.url}/sse/ticket`, { method: "POST" })).status).toBe(401);
    const issued = await fetch(`${server.url}/sse/ticket`, { method: "POST", ...withAuth("frank") });
    expect(issued.status).toBe(200);
    expect(issued.headers.get("cache-control")).toBe("no-store");
    const { ticket, expiresInMs } = (await issued.json()) as { ticket: string; expiresInMs: number };
    expect(ticket).toMatch(/^[\w-]{43}$/);
    expect(expiresInMs).toBe(30_000);

    const abort = new AbortController();
    const stream = await fetch(subscribeUrl(`&ticket=${ticket}`), { signal: abort.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("x-principal")).toBe("frank");
    const reader = stream.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toMatch(/id: \d+|retry:/);
    abort.abort();

    const reused = await fetch(subscribeUrl(`&ticket=${ticket}`));
    expect(reused.status).toBe(401);
    const refusal = (await reused.json()) as { code: string; message: string };
    expect(refusal.code).toBe("unauthenticated");
    expect(refusal.message).toContain("already used");
  });

  it("GET: a ticket is refused once its time is up", async () => {
    const clock = createFakeClock(Date.now());
    const s = await startServer({ tickMs: 1000, clock, authenticate: auth.authenticate, sseTickets: { ttlMs: 5000 } });
    try {
      const issue = async () =>
        ((await (await fetch(`${s.url}/sse/ticket`, { method: "POST", ...withAuth("gina") })).json()) as { ticket: string }).ticket;
      const url = (ticket: string) =>
        `${s.url}/sse/weather.WeatherService/GetWeather?encoding=json&message={"cityCode":"NYC"}&ticket=${ticket}`;
      const fresh = await issue();
      clock.advance(4999);
      const used = await fetch(url(fresh));
      expect(used.status).toBe(200);
      await used.text();
      const stale = await issue();
      clock.advance(5000);
      const expired = await fetch(url(stale));
      expect(expired.status).toBe(401);
      const refusal = (await expired.json()) as { code: string; message: string };
      expect(refusal.code).toBe("unauthenticated");
      expect(refusal.message).toContain("expired");
    } finally {
      await s.close();
    }
  });

  it("GET on /sse/ticket is 405", async () => {
    const res = await fetch(`${server.url}/sse/ticket`, withAuth("hal"));
    expect(res.status).toBe(405);
  });
});

describe("options", () => {
  it("refuses both authenticate and the deprecated tunnel.authenticate", () => {
    expect(() => createWeatherServer({ authenticate: () => "x", tunnel: { authenticate: () => undefined } })).toThrow(RangeError);
  });

  it("an authenticate that cannot check now (Unavailable) keeps its code; the tunnel closes with 1013", async () => {
    const s = await startServer({ authenticate: () => Promise.reject(new ConnectError("identity provider down", Code.Unavailable)) });
    try {
      const { client, close } = weatherClient("Connect", s.url, "1.1");
      expect(await codeOf(client.getWeather({ cityCode: "NYC" }))).toBe(Code.Unavailable);
      close();
      const tunnel = await openRawTunnel(s.url);
      expect(await tunnel.closed).toEqual({ code: 1013, reason: "identity provider down" });
    } finally {
      await s.close();
    }
  });

  it("a returned ConnectError refuses like a thrown one", async () => {
    const s = await startServer({ authenticate: () => new ConnectError("no", Code.PermissionDenied) });
    try {
      const { client, close } = weatherClient("Connect", s.url, "1.1");
      expect(await codeOf(client.getWeather({ cityCode: "NYC" }))).toBe(Code.PermissionDenied);
      close();
      const tunnel = await openRawTunnel(s.url);
      expect((await tunnel.closed).code).toBe(4403);
    } finally {
      await s.close();
    }
  });
});
