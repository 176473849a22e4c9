// Authentication from a page on another origin, in Chromium: the client's
// `auth` option over the tunnel (a browser WebSocket cannot send headers:
// the token rides in hello), over Connect and SSE, and a plain EventSource
// with a single-use ticket.
import { Code } from "@connectrpc/connect";
import { describe, expect, inject, it } from "vitest";
import { createWeatherClient, type SubscriptionState, type TransportKind } from "../../src/index.js";

const baseUrl = inject("authServerUrl");
const subscribePath = `/sse/weather.WeatherService/SubscribeWeather?encoding=json&message=${encodeURIComponent('{"cityCode":"NYC"}')}`;

describe.each<TransportKind>(["websocket", "connect", "grpc-web", "sse"])("auth in Chromium over %s", (transport) => {
  it("with the token: readings arrive; without it: Unauthenticated closes the subscription", async () => {
    const good = createWeatherClient({ baseUrl, transports: [transport], auth: "browser-token" });
    const sub = good.subscribeWeather({ cityCode: "NYC" });
    await new Promise((resolve) => sub.onMessage(resolve));
    good.close();

    const anonymous = createWeatherClient({ baseUrl, transports: [transport] });
    const refused = anonymous.subscribeWeather({ cityCode: "NYC" });
    const closed = await new Promise<SubscriptionState>((resolve) => refused.onState((s) => s.kind === "closed" && resolve(s)));
    expect(closed).toMatchObject({ reason: "error", error: { code: Code.Unauthenticated } });
    anonymous.close();
  });
});

describe("a plain EventSource with a ticket", () => {
  it("opens with a fresh ticket and cannot reuse it", async () => {
    const res = await fetch(`${baseUrl}/sse/ticket`, { method: "POST", headers: { authorization: "Bearer browser-token" } });
    expect(res.status).toBe(200);
    const { ticket } = (await res.json()) as { ticket: string };
    const url = `${baseUrl}${subscribePath}&ticket=${ticket}`;

    const source = new EventSource(url);
    const first = await new Promise<MessageEvent<string>>((resolve, reject) => {
      source.onmessage = resolve;
      source.onerror = () => reject(new Error("EventSource failed"));
    });
    expect(JSON.parse(first.data)).toHaveProperty("temperature");
    source.close();

    const reused = new EventSource(url);
    await new Promise<void>((resolve) => (reused.onerror = () => resolve()));
    expect(reused.readyState).toBe(EventSource.CLOSED);
    const again = await fetch(url);
    expect(again.status).toBe(401);
  });
});
