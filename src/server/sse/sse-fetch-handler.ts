import { Code, ConnectError } from "@connectrpc/connect";
import { errorToJson } from "@connectrpc/connect/protocol-connect";
import { SSE_PATH_PREFIX } from "../../codec/sse/protocol.js";
import type { SseExchange, SseOutput } from "./exchange.js";
import { tooBig } from "./sse-request.js";
import { createSseRouteCore, type SseRouteOptions } from "./sse-route.js";

/** A handler in the shape of the fetch API: one `Request` in, one `Response` out. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Body bytes the response stream buffers before the route waits for the reader. */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * Serves the SSE route (`GET` and `POST /sse/{package.Service}/{Method}`,
 * see {@link SseRouteOptions}) as a fetch handler, in any runtime with
 * `Request`, `Response` and `ReadableStream`. Other paths answer `404`.
 * The response body streams: cancelling it is the client going away.
 */
export function createSseFetchHandler(options: SseRouteOptions): FetchHandler {
  const route = createSseRouteCore(options);
  return (request) => {
    const output = new StreamOutput(request.signal);
    if (!route(new FetchExchange(request), output)) {
      const pathname = new URL(request.url).pathname;
      const error = new ConnectError(`no SSE route at ${pathname}; SSE paths start with ${SSE_PATH_PREFIX}/`, Code.Unimplemented);
      return Promise.resolve(
        new Response(JSON.stringify(errorToJson(error, undefined)), { status: 404, headers: { "content-type": "application/json" } }),
      );
    }
    return output.response;
  };
}

class FetchExchange implements SseExchange {
  readonly method: string;
  readonly url: URL;
  readonly pathname: string;

  constructor(private readonly request: Request) {
    this.method = request.method;
    this.url = new URL(request.url);
    this.pathname = this.url.pathname;
  }

  header(): Headers {
    const header = new Headers(this.request.headers);
    if (!header.has("host")) header.set("host", this.url.host);
    return header;
  }

  async readBody(maxBytes: number): Promise<Uint8Array> {
    const body = this.request.body;
    if (body === null) return new Uint8Array(0);
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let length = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      length += r.value.byteLength;
      if (length > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooBig(maxBytes);
      }
      chunks.push(r.value);
    }
    const out = new Uint8Array(length);
    let pos = 0;
    for (const c of chunks) {
      out.set(c, pos);
      pos += c.byteLength;
    }
    return out;
  }
}

/** The response as a `ReadableStream` of UTF-8, resolved into a `Response` once the head is written. */
class StreamOutput implements SseOutput {
  readonly response: Promise<Response>;
  canRespond = true;
  private resolveResponse: (response: Response) => void = () => undefined;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private readonly stream: ReadableStream<Uint8Array>;
  private readonly encoder = new TextEncoder();
  private onDrain: () => void = () => undefined;
  private onClose: () => void = () => undefined;
  private closed = false;

  constructor(signal: AbortSignal) {
    this.response = new Promise((resolve) => (this.resolveResponse = resolve));
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.onDrain(),
        cancel: () => this.close(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER_BYTES }),
    );
    signal.addEventListener("abort", () => this.close(), { once: true });
  }

  writeHead(status: number, headers: Readonly<Record<string, string>>): void {
    this.canRespond = false;
    this.resolveResponse(new Response(this.stream, { status, headers }));
  }

  write(text: string): boolean {
    const controller = this.controller;
    if (this.closed || controller === undefined) return true;
    controller.enqueue(this.encoder.encode(text));
    return (controller.desiredSize ?? 0) > 0;
  }

  end(text: string): void {
    if (this.closed) return;
    if (text !== "") this.write(text);
    this.controller?.close();
    this.close();
  }

  listen(onDrain: () => void, onClose: () => void): void {
    this.onDrain = onDrain;
    this.onClose = onClose;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.canRespond = false;
    this.onClose();
  }
}
