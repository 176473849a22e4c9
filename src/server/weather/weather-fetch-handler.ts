import { Code, ConnectError } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import { SSE_PATH_PREFIX } from "../../codec/sse/protocol.js";
import { withParseFailuresAsInvalidArgument } from "../call/parse-failure.js";
import { createSseFetchHandler, type FetchHandler } from "../sse/sse-fetch-handler.js";
import { createWeatherRouter, type WeatherRouter, type WeatherRouterOptions } from "./weather-router.js";
import { weatherSseRouteOptions, type WeatherSseRouteOptions } from "./weather-sse-route.js";

/** Options of {@link createWeatherFetchHandler}. */
export interface WeatherFetchHandlerOptions extends WeatherRouterOptions, WeatherSseRouteOptions {
  /**
   * The implementation to serve, shared with a tunnel handler
   * (`createTunnelHandler({ handlers: router.handlers, direct: [router.direct] })`).
   * Default: a new one from the router options here.
   */
  readonly router?: WeatherRouter;
}

/**
 * The reference server's HTTP protocols as one fetch handler, in any runtime
 * with the fetch API (a browser page behind a service worker or msw, Deno,
 * Bun, Node): Connect and gRPC-Web at `POST /weather.WeatherService/{Method}`
 * (connect's `createFetchHandler`) and SSE at
 * `GET|POST /sse/weather.WeatherService/{Method}` with `SubscribeWeather`
 * resumable. A request message that does not parse is `invalid_argument`.
 * Answers `404` for other paths. No CORS: put it behind a
 * same-origin route, or add the headers around it. Native gRPC needs HTTP/2
 * trailers, which a `Response` cannot carry: Node's `createWeatherServer`
 * serves it.
 *
 * @example
 * const router = createWeatherRouter({ tickMs: 1000 });
 * const fetchHandler = createWeatherFetchHandler({ router });
 * const response = await fetchHandler(new Request("http://localhost/sse/weather.WeatherService/SubscribeWeather?encoding=json&message={}"));
 */
export function createWeatherFetchHandler(options: WeatherFetchHandlerOptions = {}): FetchHandler {
  const router = options.router ?? createWeatherRouter(options);
  const sse = createSseFetchHandler(weatherSseRouteOptions(router.handlers, { ...options, direct: [router.direct] }));
  const rpc = new Map(router.handlers.map((h) => [h.requestPath, createFetchHandler(withParseFailuresAsInvalidArgument(h))]));
  return (request) => {
    const pathname = new URL(request.url).pathname;
    if (pathname.startsWith(`${SSE_PATH_PREFIX}/`)) return sse(request);
    const handler = rpc.get(pathname);
    if (handler !== undefined) return handler(request);
    const error = new ConnectError(`no route for ${pathname}`, Code.Unimplemented);
    return Promise.resolve(
      new Response(JSON.stringify(errorToJson(error, undefined)), { status: 404, headers: { "content-type": "application/json" } }),
    );
  };
}
