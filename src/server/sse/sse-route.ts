import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJson } from "@connectrpc/connect/protocol-connect";
import { type Clock, systemClock } from "../../clock.js";
import { SSE_PATH_PREFIX } from "../../codec/sse/protocol.js";
import type { DirectService } from "../call/direct-call.js";
import type { UniversalCall } from "../call/server-call.js";
import { requestHost, requirePositive } from "../call/runtime.js";
import { startCall } from "../call/start-call.js";
import { type Authenticate, authenticatedValues, authenticateHeaders } from "../auth/authenticate.js";
import { createSseTickets, type SseTickets } from "../auth/sse-tickets.js";
import { callHeader, callInput } from "./call-request.js";
import type { SseExchange, SseOutput } from "./exchange.js";
import { SseCallSink, SseEventCache } from "./sse-call.js";
import { readSseRequest, type SseRequest } from "./sse-request.js";
import type { SseResume } from "./sse-resume.js";
import { createSseWriter, type SseWriter } from "./sse-writer.js";

/**
 * The SSE route over a runtime's request and response: answers (and returns
 * true) for paths under `/sse/`, returns false for any other.
 */
export type SseRoute = (exchange: SseExchange, output: SseOutput) => boolean;

/** Options of the SSE route, on every runtime. */
export interface SseRouteOptions {
  /** The router's universal handlers (`router.handlers`): SSE dispatches into these. */
  readonly handlers: readonly UniversalHandler[];
  /**
   * Implementations behind some of `handlers` to call directly (as the tunnel
   * does: connect's own invocation without the HTTP protocol layers). Each
   * must be the implementation, with the router options, its handler serves.
   */
  readonly direct?: readonly DirectService[];
  /** Methods whose messages carry a cursor as `id:` and accept `Last-Event-ID`. Default none. */
  readonly resume?: readonly SseResume[];
  /** A comment line goes out after this long without other output, so proxies keep the stream. Default 15000. */
  readonly keepaliveMs?: number;
  /** The `retry:` hint: how long a standard `EventSource` waits before reconnecting. Default 1000. */
  readonly retryMs?: number;
  /** Largest request message accepted (POST body or GET `message`). Default 1048576 (1 MiB). */
  readonly readMaxBytes?: number;
  /**
   * Authenticates each SSE request before its body is read (see
   * `Authenticate`): a `ticket` query parameter is redeemed (single use),
   * else the request headers are checked. A refusal answers with the
   * error's HTTP status (401, 403) and a JSON error. With it,
   * `POST /sse/ticket` issues tickets to authenticated callers for a plain
   * `EventSource`. Default: no check (the router's interceptors still run).
   * It guards this route only: for Connect and gRPC-Web served beside it
   * (e.g. `createWeatherFetchHandler`), put `createAuthInterceptor(authenticate)`
   * first in the router's interceptors.
   */
  readonly authenticate?: Authenticate;
  /** The ticket store `POST /sse/ticket` issues into. Default `createSseTickets()` (30 s, single use, in memory). */
  readonly tickets?: SseTickets;
  /** Time source of the keepalive timer. Default the system clock. */
  readonly clock?: Clock;
  /** Called with failures that are not the client's fault. Default `console.error`. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Serves `GET` and `POST /sse/{package.Service}/{Method}` for the unary and
 * server-streaming methods of `handlers` as `text/event-stream`, by
 * dispatching a Connect-protocol request into the same handler that serves
 * Connect, gRPC and gRPC-Web (same interceptors, limits and errors).
 * Client-streaming and bidi methods answer `unimplemented` (HTTP 501).
 * The wire format is specified in docs/sse-protocol.md.
 *
 * @throws RangeError for a non-positive `keepaliveMs` or `readMaxBytes`, or a negative `retryMs`.
 */
export function createSseRouteCore(options: SseRouteOptions): SseRoute {
  const keepaliveMs = requirePositive("keepaliveMs", options.keepaliveMs ?? 15_000);
  const readMaxBytes = requirePositive("readMaxBytes", options.readMaxBytes ?? 1024 * 1024);
  const retryMs = options.retryMs ?? 1000;
  if (!Number.isSafeInteger(retryMs) || retryMs < 0) {
    throw new RangeError(`retryMs must be a non-negative integer, got ${retryMs}`);
  }
  const clock = options.clock ?? systemClock;
  const onError = options.onError ?? ((e: unknown) => console.error("weather-sdk SSE:", e));
  const handlers = new Map(options.handlers.map((h) => [SSE_PATH_PREFIX + h.requestPath, h]));
  /** Event caches by request path: base64 events first, JSON second. */
  const eventCaches = new Map(options.handlers.map((h) => [h.requestPath, [new SseEventCache(), new SseEventCache()] as const]));
  const direct = new Map((options.direct ?? []).flatMap((d) => d.methods).map((m) => [m.requestPath, m]));
  const resumes = new Map((options.resume ?? []).map((r) => [`/${r.method.parent.typeName}/${r.method.name}`, r]));
  const authenticate = options.authenticate;
  const tickets = authenticate === undefined ? undefined : (options.tickets ?? createSseTickets({ clock }));

  /** The call's `ctx.values` for an authenticated request; throws the refusal. */
  async function authenticateRequest(exchange: SseExchange, requestHeader: Headers): Promise<ContextValues | undefined> {
    if (authenticate === undefined || tickets === undefined) return undefined;
    const ticket = exchange.url.searchParams.get(SSE_TICKET_PARAM);
    const principal = ticket === null ? await authenticateHeaders(authenticate, requestHeader) : tickets.redeem(ticket);
    return authenticatedValues(principal);
  }

  async function issueTicket(exchange: SseExchange, res: SseOutput): Promise<void> {
    if (authenticate === undefined || tickets === undefined) return;
    let body: string;
    try {
      const principal = await authenticateHeaders(authenticate, exchange.header());
      body = JSON.stringify(tickets.issue(principal));
    } catch (e) {
      reject(res, ConnectError.from(e, Code.Unauthenticated));
      return;
    }
    if (!res.canRespond) return;
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(body);
  }

  async function serve(exchange: SseExchange, res: SseOutput, handler: UniversalHandler): Promise<void> {
    const resume = resumes.get(handler.requestPath);
    let sse: SseRequest;
    let header: Headers;
    let url: string;
    let contextValues: ContextValues | undefined;
    try {
      const requestHeader = exchange.header();
      try {
        contextValues = await authenticateRequest(exchange, requestHeader);
      } catch (e) {
        reject(res, ConnectError.from(e, Code.Unauthenticated));
        return;
      }
      sse = await readSseRequest(exchange, requestHeader, readMaxBytes);
      header = callHeader(requestHeader, handler, sse, resume);
      url = `http://${requestHost(requestHeader)}${handler.requestPath}`;
    } catch (e) {
      reject(res, ConnectError.from(e, Code.InvalidArgument));
      return;
    }
    const sink: SseCallSink = new SseCallSink(
      writerFor(res, () => sink.call),
      handler.method,
      sse.binary,
      resume,
      eventCaches.get(handler.requestPath)?.[sse.binary ? 0 : 1],
    );
    let input: Uint8Array;
    try {
      input = callInput(handler, sse);
    } catch (e) {
      // As the handler would answer a request message that does not parse: in the end event.
      sink.end(ConnectError.from(e, Code.InvalidArgument), []);
      return;
    }
    sink.call = startCall(
      { handler, url, header, input, onError, ...(contextValues && { contextValues }) },
      direct.get(handler.requestPath),
      sink,
    );
  }

  function writerFor(res: SseOutput, call: () => UniversalCall | undefined): SseWriter {
    return createSseWriter(res, {
      clock,
      keepaliveMs,
      retryMs,
      onClientGone() {
        // The handler's signal aborts and its output iterator is returned.
        call()?.abort(new ConnectError("the client closed the SSE stream", Code.Canceled));
      },
    });
  }

  return (exchange, res) => {
    const pathname = exchange.pathname;
    if (!pathname.startsWith(`${SSE_PATH_PREFIX}/`)) return false;
    if (pathname === SSE_TICKET_PATH && authenticate !== undefined) {
      if (exchange.method === "POST") issueTicket(exchange, res).catch(onError);
      else
        reject(res, new ConnectError(`${SSE_TICKET_PATH} takes POST, not ${exchange.method}`, Code.Unimplemented), 405, { allow: "POST" });
      return true;
    }
    const handler = handlers.get(pathname);
    if (handler === undefined) {
      reject(
        res,
        new ConnectError(`no method at ${pathname}; SSE paths are ${SSE_PATH_PREFIX}/{package.Service}/{Method}`, Code.Unimplemented),
        404,
      );
    } else if (exchange.method !== "GET" && exchange.method !== "POST") {
      reject(res, new ConnectError(`SSE endpoints take GET or POST, not ${exchange.method}`, Code.Unimplemented), 405, {
        allow: "GET, POST",
      });
    } else if (handler.method.methodKind === "client_streaming" || handler.method.methodKind === "bidi_streaming") {
      const kind = handler.method.methodKind === "bidi_streaming" ? "bidi-streaming" : "client-streaming";
      reject(
        res,
        new ConnectError(
          `${handler.requestPath} is ${kind}: SSE carries only unary and server-streaming calls. ` +
            "Call it over the WebSocket tunnel (createWebSocketTransport, in browsers too) or over " +
            "Connect/gRPC from Node (bidi needs HTTP/2).",
          Code.Unimplemented,
        ),
      );
    } else {
      serve(exchange, res, handler).catch(onError);
    }
    return true;
  };
}

/** Where an authenticated caller gets a ticket for a plain `EventSource` (`POST`, answers `{"ticket","expiresInMs"}`). */
export const SSE_TICKET_PATH = `${SSE_PATH_PREFIX}/ticket`;

/** The query parameter an SSE `GET` carries its ticket in. */
export const SSE_TICKET_PARAM = "ticket";

/** Answers before dispatch, like a Connect unary error: an HTTP status and a JSON error body. */
function reject(res: SseOutput, error: ConnectError, status = codeToHttpStatus(error.code), headers: Record<string, string> = {}): void {
  if (!res.canRespond) return;
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(errorToJson(error, undefined)));
}
