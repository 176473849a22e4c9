import { CITIES } from "../../src/simulation/cities.js";
import { alwaysActive, createWeatherClient, type Subscription, type WeatherClient, type WeatherResponse } from "../../src/index.js";
import type { ManySubsParams } from "../shared.js";

let weather: WeatherClient | undefined;
let subs: Subscription<WeatherResponse>[] = [];
let received = 0;

/** Opens `count` subscriptions (cities in turn) on one client, so one WebSocket; resolves when each is open and had a message. */
export function subsOpen(params: ManySubsParams): Promise<{ openMs: number }> {
  subsClose();
  const codes = [...CITIES.keys()];
  const client = createWeatherClient({ baseUrl: params.baseUrl, transports: ["websocket"], lifecycle: alwaysActive });
  weather = client;
  received = 0;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let ready = 0;
    for (let i = 0; i < params.count; i++) {
      const sub = client.subscribeWeather({ cityCode: codes[i % codes.length] ?? "NYC" });
      let first = true;
      sub.onMessage(() => {
        received++;
        if (first) {
          first = false;
          if (++ready === params.count) resolve({ openMs: performance.now() - t0 });
        }
      });
      sub.onState((s) => {
        if (s.kind === "closed" || s.kind === "reconnecting")
          reject(new Error(`subscription ${i}: ${s.kind} ${String(s.kind === "closed" ? s.error : s.error.message)}`));
      });
      subs.push(sub);
    }
  });
}

export async function subsCount(windowMs: number): Promise<{ messages: number; ms: number }> {
  const start = received;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return { messages: received - start, ms: performance.now() - t0 };
}

export function subsClose(): { closed: number } {
  const closed = subs.length;
  for (const sub of subs) sub.close();
  subs = [];
  weather?.close();
  weather = undefined;
  return { closed };
}
