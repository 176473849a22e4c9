// The demo's mocked mode (`npm run demo -- --mocked`, or `?mocked` on the page):
// no server at all. weather-sdk/testing serves the weather inside this page
// through msw's service worker, on every transport, and the "break the
// network" panel drives the kit's faults through the same /__demo-style
// controls the real demo serves, here answered by msw too. The page is a live
// example of the mocked-testing kit.
import { Code } from "@connectrpc/connect";
import { http, HttpResponse } from "msw";
import { setupWorker } from "msw/browser";
import { createWeatherClient } from "../src/index.js";
import { createWeatherMocks, forwardStreamCancels } from "../src/testing/index.js";
import type { Backend } from "./backend.js";
import type { FaultStatus } from "./faults.js";

/** The mocked server's URL: a name no network resolves, so every byte the page gets is the mocks'. */
export const MOCKED_SERVER_URL = "http://weather.mocked.test";
const TICK_MS = 250;
const HISTORY_MS = 600_000;

/** Starts msw in this page with the weather mocks and the fault controls; resolves once it intercepts. */
export async function mockedBackend(): Promise<Backend> {
  const mocks = createWeatherMocks({ baseUrl: MOCKED_SERVER_URL, tickMs: TICK_MS, historyWindowMs: HISTORY_MS });
  const faults = { webSocketBlocked: false, latencyMs: 0, downUntil: 0 };
  let upAgain: ReturnType<typeof setTimeout> | undefined;

  /** Sets the kit's faults from the panel's state (reset, then each one that is on). */
  const apply = () => {
    mocks.reset();
    if (faults.webSocketBlocked) mocks.refuseWebSocket();
    if (faults.latencyMs > 0) mocks.delay(faults.latencyMs);
    // "Server down": every call fails as an unreachable server's would, on every transport.
    if (Date.now() < faults.downUntil) mocks.fail(Code.Unavailable, { times: Infinity, message: "the mocked server is down" });
  };
  const status = (): FaultStatus => ({
    serverUp: Date.now() >= faults.downUntil,
    downForMs: Math.max(0, faults.downUntil - Date.now()),
    webSocketBlocked: faults.webSocketBlocked,
    latencyMs: faults.latencyMs,
    connections: mocks.openConnections(),
    tickMs: TICK_MS,
    historyMs: HISTORY_MS,
  });
  const body = async (request: Request): Promise<Record<string, unknown>> => {
    const value: unknown = await request.json().catch(() => ({}));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  };

  const controlsUrl = `${location.origin}/__demo-mocked`;
  const controls = [
    http.get(`${controlsUrl}/status`, () => HttpResponse.json(status())),
    http.post(`${controlsUrl}/drop`, () => {
      mocks.dropConnections();
      return HttpResponse.json(status());
    }),
    http.post(`${controlsUrl}/websocket`, async ({ request }) => {
      faults.webSocketBlocked = (await body(request))["blocked"] === true;
      apply();
      if (faults.webSocketBlocked) mocks.dropConnections({ transport: "websocket" });
      return HttpResponse.json(status());
    }),
    http.post(`${controlsUrl}/latency`, async ({ request }) => {
      const ms = Number((await body(request))["ms"]);
      if (!Number.isInteger(ms) || ms < 0 || ms > 10_000) return HttpResponse.json({ error: "ms must be 0 to 10000" }, { status: 400 });
      faults.latencyMs = ms;
      apply();
      return HttpResponse.json(status());
    }),
    http.post(`${controlsUrl}/down`, async ({ request }) => {
      const seconds = Number((await body(request))["seconds"]);
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60)
        return HttpResponse.json({ error: "seconds must be 1 to 60" }, { status: 400 });
      faults.downUntil = Date.now() + seconds * 1000;
      apply();
      mocks.dropConnections();
      clearTimeout(upAgain);
      upAgain = setTimeout(apply, seconds * 1000);
      return HttpResponse.json(status());
    }),
  ];

  const worker = setupWorker(...mocks.handlers, ...controls);
  forwardStreamCancels(worker);
  await worker.start({ quiet: true, onUnhandledFrame: "bypass" });
  return {
    serverUrl: `${MOCKED_SERVER_URL} (mocked in this page by weather-sdk/testing)`,
    controlsUrl,
    createClient: (transports, meter) =>
      createWeatherClient({
        baseUrl: MOCKED_SERVER_URL,
        transports,
        webSocket: meter.webSocket,
        fetch: meter.fetch,
        reconnect: { initialDelayMs: 300, maxDelayMs: 5000 },
      }),
  };
}
