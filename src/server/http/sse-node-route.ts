import type * as http from "node:http";
import type { Socket } from "node:net";
import type { Writable } from "node:stream";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { SseExchange, SseOutput } from "../sse/exchange.js";
import type { SharedSseText } from "../sse/shared-text.js";
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
  return (req, res, pathname) => route(new NodeExchange(req, pathname), new NodeOutput(res, req.httpVersionMajor === 1));
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

/**
 * The response of one SSE request. On HTTP/1.1, once the head has gone to
 * the connection, each write is one chunk written straight to the socket:
 * `res.write` costs several times as much per call (a chunk header, a
 * cork and a `process.nextTick` per write, a `writev` of four buffers), and
 * an SSE subscriber gets one write per event. Node still ends the response
 * (`res.end` writes the last chunk and the terminator after these, in order).
 * On HTTP/2 shared text goes to the response's stream as it is, past the
 * compatibility layer's checks (done once, by `writeHead`).
 */
class NodeOutput implements SseOutput {
  // Both Node servers accept these calls; their typings' overloads do not unify.
  private readonly res: http.ServerResponse;
  /** The socket that takes this response's chunks directly; undefined while writes go through `res`. */
  private direct: Socket | undefined;

  /** @param http1 the request came over HTTP/1.x (an h2c response shares its session's socket) */
  constructor(
    res: NodeResponse,
    private readonly http1: boolean,
  ) {
    this.res = res as http.ServerResponse;
  }

  get canRespond(): boolean {
    return !this.res.headersSent && !this.res.destroyed;
  }

  writeHead(status: number, headers: Readonly<Record<string, string>>): void {
    const res = this.res;
    res.writeHead(status, headers);
    if (!this.http1) return;
    // A response gets its socket when it is first in the connection's line (pipelining); only then does
    // flushHeaders hand the head to the socket, and only then may chunks follow it there.
    const socket = res.socket;
    if (socket === null || (res as { chunkedEncoding?: boolean }).chunkedEncoding !== true) return;
    res.flushHeaders();
    this.direct = socket;
  }

  writeShared(shared: SharedSseText): boolean {
    const socket = this.direct;
    if (socket !== undefined) return socket.destroyed || socket.write(shared.http1Chunk);
    if (this.http1) return this.res.write(shared.bytes);
    // Http2ServerResponse.stream; after writeHead its headers are out.
    const stream = (this.res as unknown as { stream: Writable }).stream;
    if (stream.destroyed || stream.writableEnded) return true;
    return stream.write(shared.bytes);
  }

  write(text: string): boolean {
    const socket = this.direct;
    if (socket === undefined) return this.res.write(text);
    if (socket.destroyed) return true;
    // One chunk of the chunked body: its size in hex, the data, CRLF. The event text is ASCII (base64 or
    // JSON with escapes), but a JSON string may hold any character: the size counts UTF-8 bytes.
    return socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  }

  end(text: string): void {
    this.res.end(text);
  }

  listen(onDrain: () => void, onClose: () => void): void {
    this.res.on("drain", onDrain);
    this.res.once("close", onClose);
    // Direct writes fill the socket's buffer, not the response's: its drain is theirs. Listened to from the
    // start, since the route listens before it opens; removed when the response is over (a kept-alive
    // socket serves further requests).
    const socket = this.http1 ? this.res.socket : null;
    if (socket === null) return;
    const drained = (): void => {
      if (this.direct !== undefined) onDrain();
    };
    socket.on("drain", drained);
    this.res.once("close", () => socket.off("drain", drained));
  }
}
