// The HTTP surface of the reference server seen by plain clients: health,
// HTTP/1.1 and h2c on one port, CORS, and hostile bytes.
import * as net from "node:net";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../src/codec/resume.js";
import { WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { city, expectReadingOf } from "../helpers/connect-node.js";
import { h1Request, h2Request, type RawRequest, type RawResponse, rawExchange } from "../helpers/raw-http.js";
import { startServer } from "../helpers/server.js";

const TICK_MS = 1000;
const APP_ORIGIN = "https://app.example.com";

let open: Awaited<ReturnType<typeof startServer>>;
let strict: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  [open, strict] = await Promise.all([
    startServer({ tickMs: TICK_MS }),
    startServer({ tickMs: TICK_MS, allowedOrigins: [APP_ORIGIN, "http://localhost:5173"] }),
  ]);
});

afterAll(async () => {
  await Promise.all([open.close(), strict.close()]);
});

const getWeatherJson = (headers: Record<string, string> = {}): RawRequest => ({
  method: "POST",
  path: "/weather.WeatherService/GetWeather",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify({ cityCode: "SIN" }),
});

const preflight = (origin: string): RawRequest => ({
  method: "OPTIONS",
  path: "/weather.WeatherService/SubscribeWeather",
  headers: {
    origin,
    "access-control-request-method": "POST",
    "access-control-request-headers": `content-type, connect-protocol-version, ${RESUME_AFTER_HEADER}`,
  },
});

function headerList(res: RawResponse, name: string): string[] {
  const value = res.headers[name];
  return String(value ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
}

describe.each([
  ["HTTP/1.1", h1Request, "1.1"],
  ["h2c", h2Request, "2.0"],
] as const)("over %s on the shared port", (_name, request, httpVersion) => {
  it("GET /healthz answers 200", async () => {
    const res = await request(open.url, { path: "/healthz" });
    expect(res).toMatchObject({ status: 200, body: "ok\n", httpVersion });
  });

  it("answers a Connect JSON unary call with the simulated reading", async () => {
    const res = await request(open.url, getWeatherJson());
    expect(res.status).toBe(200);
    expect(res.httpVersion).toBe(httpVersion);
    expect(res.headers["content-type"]).toBe("application/json");
    expectReadingOf(fromJson(WeatherResponseSchema, JSON.parse(res.body) as JsonValue), city("SIN"), TICK_MS);
  });

  it("answers 404 for an unknown path", async () => {
    expect((await request(open.url, { path: "/nope" })).status).toBe(404);
  });

  it("allows a preflight from any origin by default", async () => {
    const res = await request(open.url, preflight("https://anywhere.example"));
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe("https://anywhere.example");
    expect(headerList(res, "access-control-allow-methods")).toContain("post");
    expect(headerList(res, "access-control-allow-headers")).toEqual(
      expect.arrayContaining(["content-type", "connect-protocol-version", RESUME_AFTER_HEADER, "last-event-id"]),
    );
  });

  it("sets Access-Control-Allow-Origin and exposes the resume and gRPC headers on actual responses", async () => {
    const res = await request(open.url, getWeatherJson({ origin: "https://anywhere.example" }));
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("https://anywhere.example");
    expect(headerList(res, "vary")).toContain("origin");
    expect(headerList(res, "access-control-expose-headers")).toEqual(
      expect.arrayContaining([RESUME_STATUS_HEADER, "grpc-status", "grpc-message"]),
    );
  });

  it("with an allowlist, allows a listed origin and refuses others with 403", async () => {
    const allowed = await request(strict.url, preflight(APP_ORIGIN));
    expect(allowed.status).toBe(204);
    expect(allowed.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);

    const refused = await request(strict.url, preflight("https://evil.example"));
    expect(refused.status).toBe(403);
    expect(refused.headers["access-control-allow-origin"]).toBeUndefined();
    expect(refused.body).toContain("https://evil.example");

    // Scheme and port are part of the origin.
    expect((await request(strict.url, preflight("http://app.example.com"))).status).toBe(403);
    expect((await request(strict.url, preflight("http://localhost:5174"))).status).toBe(403);
  });

  it("with an allowlist, sends no Access-Control-Allow-Origin to other origins but still serves non-browser clients", async () => {
    const other = await request(strict.url, getWeatherJson({ origin: "https://evil.example" }));
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    const listed = await request(strict.url, getWeatherJson({ origin: APP_ORIGIN }));
    expect(listed.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    const noOrigin = await request(strict.url, getWeatherJson());
    expect(noOrigin.status).toBe(200);
    expect(noOrigin.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("an HTTP/1.1 request offering Upgrade: h2c (curl --http2)", () => {
  it("is served as plain HTTP/1.1", async () => {
    const res = await h1Request(open.url, {
      path: "/healthz",
      headers: { connection: "Upgrade, HTTP2-Settings", upgrade: "h2c", "http2-settings": "AAMAAABkAAQAoAAAAAIAAAAA" },
    });
    expect(res).toMatchObject({ status: 200, body: "ok\n", httpVersion: "1.1" });
  });
});

describe("bidi streaming over HTTP/1.1", () => {
  const chat = (contentType: string): RawRequest => ({
    method: "POST",
    path: "/weather.WeatherService/WeatherChat",
    headers: { "content-type": contentType },
    body: "",
  });

  it("is refused in the Connect protocol with an Unimplemented end-stream message", async () => {
    const res = await h1Request(open.url, chat("application/connect+json"));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/connect+json");
    const envelope = Buffer.from(res.body, "latin1");
    expect(envelope[0], "end-stream flag").toBe(2);
    const end = JSON.parse(res.body.slice(5)) as { error: { code: string; message: string } };
    expect(end.error.code).toBe("unimplemented");
    expect(end.error.message).toContain("needs HTTP/2");
  });

  it.each(["application/grpc-web+proto", "application/grpc"])("is refused as %s with grpc-status 12", async (contentType) => {
    const res = await h1Request(open.url, chat(contentType));
    expect(res.status).toBe(200);
    expect(res.headers["grpc-status"]).toBe("12");
    expect(decodeURIComponent(String(res.headers["grpc-message"]))).toContain("needs HTTP/2");
  });

  it("still works over h2c", async () => {
    const res = await h2Request(open.url, chat("application/connect+json"));
    expect(res.status).toBe(200);
    expect(res.body).not.toContain("unimplemented");
  });
});

describe("hostile bytes on the port", () => {
  const port = () => Number(new URL(open.url).port);
  const stillServes = async () => {
    const [h1, h2] = await Promise.all([h1Request(open.url, { path: "/healthz" }), h2Request(open.url, { path: "/healthz" })]);
    expect([h1.status, h2.status]).toEqual([200, 200]);
  };

  it("answers garbage with 400 and closes, and keeps serving others", async () => {
    const answer = await rawExchange(port(), Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a, 0x42]));
    expect(answer.toString("latin1")).toMatch(/^HTTP\/1\.1 400 /);
    await stillServes();
  });

  it("closes a connection that starts like HTTP/2 and then is not, and keeps serving others", async () => {
    const notQuitePreface = await rawExchange(port(), "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n");
    expect(notQuitePreface.toString("latin1")).toMatch(/^(HTTP\/1\.1 400 |$)/);
    const h1Pri = await rawExchange(port(), "PRI * HTTP/1.1\r\nConnection: close\r\n\r\n");
    expect(h1Pri.toString("latin1")).toMatch(/^HTTP\/1\.1 4\d\d /);
    await stillServes();
  });

  it("closes an HTTP/2 connection whose frames are garbage, and keeps serving others", async () => {
    const garbageFrame = Buffer.alloc(64, 0xff);
    const answer = await rawExchange(port(), Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), garbageFrame]));
    // The server speaks HTTP/2 back (its SETTINGS frame, then GOAWAY) before closing.
    expect(answer.length).toBeGreaterThan(0);
    await stillServes();
  });

  it("keeps serving while a connection sends nothing, or half a preface", async () => {
    const idle = net.connect(port(), "127.0.0.1");
    const partial = net.connect(port(), "127.0.0.1");
    try {
      await Promise.all([new Promise((r) => idle.once("connect", r)), new Promise((r) => partial.once("connect", r))]);
      partial.write("PRI * HTTP/2");
      await stillServes();
    } finally {
      idle.destroy();
      partial.destroy();
    }
  });
});
