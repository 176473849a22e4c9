// The client's `auth` option against the real server's `authenticate`, on
// every transport the browser client speaks: credentials reach the server,
// refusals carry their code (the tunnel's 4401/4403 included), and a
// subscription refused with Unauthenticated retries only with new credentials.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alwaysActive, createWeatherClient, type AuthOption, type SubscriptionState, type TransportKind } from "../../src/index.js";
import type { WeatherServer } from "../../src/server/index.js";
import { rejection } from "../helpers/assertions.js";
import { startServer } from "../helpers/server.js";
import { createTestAuthenticate, echoPrincipal } from "./helpers.js";

let server: WeatherServer & { url: string };
const auth = createTestAuthenticate();

beforeAll(async () => {
  server = await startServer({ tickMs: 20, authenticate: auth.authenticate, interceptors: [echoPrincipal] });
});
afterAll(() => server.close());

const TRANSPORTS: readonly TransportKind[] = ["websocket", "connect", "grpc-web", "sse"];

function client(transport: TransportKind, authOption?: AuthOption) {
  return createWeatherClient({
    baseUrl: server.url,
    transports: [transport],
    lifecycle: alwaysActive,
    reconnect: { initialDelayMs: 1, maxDelayMs: 5 },
    ...(authOption === undefined ? {} : { auth: authOption }),
  });
}

/** Resolves with the first state `match` accepts, recording every state. */
function stateWhere(sub: { onState(l: (s: SubscriptionState) => void): () => void }, match: (s: SubscriptionState) => boolean) {
  const seen: SubscriptionState[] = [];
  const reached = new Promise<SubscriptionState>((resolve) =>
    sub.onState((s) => {
      seen.push(s);
      if (match(s)) resolve(s);
    }),
  );
  return { seen, reached };
}

describe.each(TRANSPORTS)("auth over %s", (transport) => {
  it("without credentials: a call fails with Unauthenticated, a subscription closes with it and does not retry", async () => {
    const weather = client(transport);
    try {
      expect((await rejection(weather.getWeather({ cityCode: "NYC" }))).code).toBe(Code.Unauthenticated);
      const sub = weather.subscribeWeather({ cityCode: "NYC" });
      const { seen, reached } = stateWhere(sub, (s) => s.kind === "closed");
      expect(await reached).toMatchObject({ kind: "closed", reason: "error", error: { code: Code.Unauthenticated } });
      expect(seen.filter((s) => s.kind === "reconnecting")).toEqual([]);
    } finally {
      weather.close();
    }
  });

  it("a denied token gets PermissionDenied", async () => {
    const weather = client(transport, "denied");
    try {
      expect((await rejection(weather.getWeather({ cityCode: "NYC" }))).code).toBe(Code.PermissionDenied);
      const sub = weather.subscribeWeather({ cityCode: "NYC" });
      const { reached } = stateWhere(sub, (s) => s.kind === "closed");
      expect(await reached).toMatchObject({ kind: "closed", error: { code: Code.PermissionDenied } });
    } finally {
      weather.close();
    }
  });

  it("a static token reaches the handler as the principal; subscriptions open", async () => {
    const weather = client(transport, "alice");
    try {
      let principal: string | null = null;
      await weather.getWeather({ cityCode: "NYC" }, { onHeader: (h) => (principal = h.get("x-principal")) });
      expect(principal).toBe("alice");
      const sub = weather.subscribeWeather({ cityCode: "NYC" });
      const first = await new Promise((resolve) => sub.onMessage(resolve));
      expect(first).toBeDefined();
      sub.close();
    } finally {
      weather.close();
    }
  });

  it("an expired token is refreshed once: the provider is asked again with refresh: true and the subscription opens", async () => {
    const asked: boolean[] = [];
    const weather = client(transport, async ({ refresh }) => {
      asked.push(refresh);
      await Promise.resolve();
      return refresh ? "renewed" : "expired";
    });
    try {
      const sub = weather.subscribeWeather({ cityCode: "NYC" });
      const { reached } = stateWhere(sub, (s) => s.kind === "open" || s.kind === "closed");
      expect(await reached).toMatchObject({ kind: "open" });
      expect(asked.slice(0, 2)).toEqual([false, true]);
      sub.close();
    } finally {
      weather.close();
    }
  });

  it("a provider that cannot renew (same token again) closes the subscription after one more question", async () => {
    const asked: boolean[] = [];
    const weather = client(transport, ({ refresh }) => {
      asked.push(refresh);
      return "expired";
    });
    try {
      const sub = weather.subscribeWeather({ cityCode: "NYC" });
      const { seen, reached } = stateWhere(sub, (s) => s.kind === "closed");
      expect(await reached).toMatchObject({ kind: "closed", reason: "error", error: { code: Code.Unauthenticated } });
      expect(asked).toEqual([false, true]);
      expect(seen.filter((s) => s.kind === "connecting")).toHaveLength(1);
    } finally {
      weather.close();
    }
  });
});

describe("auth on the tunnel", () => {
  it("asks the provider once per connection (hello), not per call, and again for a new connection", async () => {
    let asked = 0;
    const weather = createWeatherClient({
      baseUrl: server.url,
      transports: ["websocket"],
      lifecycle: alwaysActive,
      auth: async () => {
        asked++;
        await Promise.resolve();
        return { authorization: "Bearer ivan" };
      },
    });
    try {
      await Promise.all([weather.getWeather({ cityCode: "NYC" }), weather.getWeather({ cityCode: "LON" })]);
      await weather.getWeather({ cityCode: "NYC" });
      expect(asked).toBe(1);
      weather.close();
      await weather.getWeather({ cityCode: "NYC" });
      expect(asked).toBe(2);
    } finally {
      weather.close();
    }
  });

  it("a provider that fails fails the connection's calls with its code (Unauthenticated by default)", async () => {
    const weather = createWeatherClient({
      baseUrl: server.url,
      transports: ["websocket"],
      lifecycle: alwaysActive,
      auth: () => Promise.reject(new Error("the login popup was closed")),
    });
    try {
      const error = await rejection(weather.getWeather({ cityCode: "NYC" }));
      expect(error.code).toBe(Code.Unauthenticated);
      expect(error.rawMessage).toContain("the login popup was closed");
    } finally {
      weather.close();
    }
  });
});
