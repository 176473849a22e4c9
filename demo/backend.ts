// The one place the page learns where its server is and how to make a client.
// Everything else asks `backend`; the mocked mode (weather-sdk/testing on msw,
// ./mocked-backend.ts) supplies another `Backend` here and leaves the rest of
// the page alone.
import { createWeatherClient, type TransportKind, type WeatherClient } from "../src/index.js";
import type { WireMeter } from "./wire-meter.js";

/** Where the page's calls go, and the demo's fault controls when `npm run demo` serves the page. */
export interface Backend {
  /** What the header shows as the server. */
  readonly serverUrl: string;
  /** Base URL of the dev-only controls (`/__demo/…`), or undefined when nothing serves them. */
  readonly controlsUrl: string | undefined;
  /** A client over `transports` (in order of preference) whose bytes `meter` counts. */
  createClient(transports: readonly TransportKind[], meter: WireMeter): WeatherClient;
}

/**
 * The mocked backend with `?mocked` or `npm run demo -- --mocked` (loaded only
 * then: the page without it never loads msw); else the server from `?server=`,
 * else what `npm run demo` wrote into the page, else this page's origin.
 */
export async function backendFromPage(): Promise<Backend> {
  const query = new URLSearchParams(location.search);
  const fromQuery = query.get("server");
  const fromMeta = document.querySelector<HTMLMetaElement>('meta[name="weather-server"]')?.content ?? "";
  if (query.has("mocked") || fromMeta === "mocked") {
    const { mockedBackend } = await import("./mocked-backend.js");
    return mockedBackend();
  }
  const serverUrl = fromQuery !== null && fromQuery !== "" ? fromQuery : fromMeta.startsWith("http") ? fromMeta : location.origin;
  return {
    serverUrl,
    // `npm run demo` serves the controls beside the page; a static build (`npm run build:demo`) has none.
    controlsUrl: fromMeta.startsWith("http") ? `${location.origin}/__demo` : undefined,
    createClient: (transports, meter) =>
      createWeatherClient({
        baseUrl: serverUrl,
        transports,
        webSocket: meter.webSocket,
        fetch: meter.fetch,
        // A demo shows reconnects: start soon, never wait more than 5 s (the default caps at 30 s).
        reconnect: { initialDelayMs: 300, maxDelayMs: 5000 },
      }),
  };
}
