import type * as http from "node:http";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { SseExchange, SseOutput } from "../sse/exchange.js";
import { tooBig } from "../sse/sse-request.js";
import { createSseRouteCore, type SseRouteOptions } from "../sse/sse-route.js";
import { weatherSseRouteOptions, type WeatherSseRouteOptions } from "../weather/weather-sse-route.js";
import type { RouteHandler } from "./http-handler.js";
import type { NodeRequest, NodeResponse } from "./node-http.js";

/**
 * The SSE route for Node's HTTP servers: serves `GET` and
 * `POST /sse/{package.Service}/{Method}` (see {@link SseRouteOptions}) on the
 * request and response as they are, with the socket's back-pressure.
 */
export function createSseRoute(options: SseRouteOptions): RouteHandler {
  const route = createSseRouteCore(options);
  return (req, res, pathname) => route(new NodeExchange(req, pathname), new NodeOutput(res));
}

/**
 * The reference server's SSE route for Node: {@link createSseRoute} over the
 * router's handlers, with `SubscribeWeather` resumable by `weatherSseResume`.
 */
export function createWeatherSseRoute(handlers: readonly UniversalHandler[], options: WeatherSseRouteOptions = {}): RouteHandler {
  return createSseRoute(weatherSseRouteOptions(handlers, options));
}

class NodeExchange implements SseExchange {
  readonly method: string;
  private parsedUrl: URL | undefined;

  constructor(
    private readonly req: NodeRequest,
    readonly pathname: string,
  ) {
    this.method = req.method ?? "GET";
  }

  get url(): URL {
    return (this.parsedUrl ??= new URL(this.req.url ?? "/", "http://localhost"));
  }

  header(): Headers {
    const header = new Headers();
    const fields = this.req.headers;
    for (const name in fields) {
      const value = fields[name];
      if (value === undefined || name.startsWith(":")) continue;
      if (Array.isArray(value)) for (const v of value) header.append(name, v);
      else header.append(name, value);
    }
    // HTTP/2 names the host in a pseudo-header.
    const authority = fields[":authority"];
    if (!header.has("host") && typeof authority === "string") header.set("host", authority);
    return header;
  }

  async readBody(maxBytes: number): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      length += chunk.byteLength;
      if (length > maxBytes) throw tooBig(maxBytes);
      chunks.push(chunk);
    }
    return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, length);
  }
}

class NodeOutput implements SseOutput {
  // Both Node servers accept these calls; their typings' overloads do not unify.
  private readonly res: http.ServerResponse;

  constructor(res: NodeResponse) {
    this.res = res as http.ServerResponse;
  }

  get canRespond(): boolean {
    return !this.res.headersSent && !this.res.destroyed;
  }

  writeHead(status: number, headers: Readonly<Record<string, string>>): void {
    this.res.writeHead(status, headers);
  }

  write(text: string): boolean {
    return this.res.write(text);
  }

  end(text: string): void {
    this.res.end(text);
  }

  listen(onDrain: () => void, onClose: () => void): void {
    this.res.on("drain", onDrain);
    this.res.once("close", onClose);
  }
}
