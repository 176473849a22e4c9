import type * as http from "node:http";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalHandler } from "@connectrpc/connect/protocol";
import { endStreamFlag, endStreamToJson } from "@connectrpc/connect/protocol-connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { type Authenticate, authenticatedValues, authenticateHeaders, authError } from "../auth/authenticate.js";
import { refusalResponse } from "../auth/refusal.js";
import type { AllowedOrigins } from "../tunnel/origins.js";
import { applyCors } from "./cors.js";
import { type NodeRequest, type NodeResponse, sendResponse, sendText } from "./node-http.js";
import { withParseFailuresAsInvalidArgument } from "../call/parse-failure.js";

/** Serves one path prefix outside the RPC routes (SSE, health, …); returns false to pass. */
export type RouteHandler = (req: NodeRequest, res: NodeResponse, pathname: string) => boolean;

export interface HttpHandlerOptions {
  readonly handlers: readonly UniversalHandler[];
  readonly allowedOrigins: AllowedOrigins;
  /** Tried in order before the RPC routes. */
  readonly routes: readonly RouteHandler[];
  readonly onError: (error: unknown) => void;
  /** Checks each RPC's request headers before its body is read; a refusal is answered in the caller's protocol. */
  readonly authenticate?: Authenticate;
}

/**
 * The Node request listener for HTTP/1.1 and h2c: CORS, extra routes, then
 * Connect / gRPC / gRPC-Web from the shared router's universal handlers
 * (a request message that does not parse is `invalid_argument`).
 */
export function createHttpHandler(options: HttpHandlerOptions): (req: NodeRequest, res: NodeResponse) => void {
  const byPath = new Map(options.handlers.map((h) => [h.requestPath, withParseFailuresAsInvalidArgument(h)]));
  return (req, res) => {
    if (applyCors(options.allowedOrigins, req, res)) return;
    const pathname = (req.url ?? "/").split("?", 1)[0] ?? "/";
    for (const route of options.routes) {
      if (route(req, res, pathname)) return;
    }
    const handler = byPath.get(pathname);
    if (handler === undefined) {
      sendText(res, 404, `no route for ${pathname}\n`);
      return;
    }
    if (refuseBidiOverHttp1(handler, req, res)) return;
    const contextValues = createContextValues();
    const uReq = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    const authenticate = options.authenticate;
    // Authenticated before the body is read: a refused caller costs no decoding.
    const authenticated =
      authenticate === undefined
        ? Promise.resolve(true)
        : authenticateHeaders(authenticate, uReq.header).then(
            (principal) => {
              authenticatedValues(principal, contextValues);
              return true;
            },
            (e: unknown) => {
              const refusal = refusalResponse(uReq.header.get("content-type"), authError(e));
              sendResponse(res, refusal.status, Object.fromEntries(refusal.headers), refusal.body);
              return false;
            },
          );
    authenticated
      .then((allowed) => (allowed ? handler(uReq).then((uRes) => universalResponseToNodeResponse(uRes, res)) : undefined))
      .catch((reason: unknown) => {
        // A client that went away mid-response is not a server fault.
        if (ConnectError.from(reason).code !== Code.Aborted) options.onError(reason);
      });
  };
}

/**
 * connect's handlers refuse bidi streaming over HTTP/1.x with a bare HTTP 505,
 * which every client can only read as `Unknown`. Answer instead in the
 * caller's protocol with `Unimplemented` and a message that says what to do.
 * Returns true when the request was answered here.
 */
function refuseBidiOverHttp1(handler: UniversalHandler, req: NodeRequest, res: NodeResponse): boolean {
  if (handler.method.methodKind !== "bidi_streaming" || req.httpVersionMajor >= 2) return false;
  const contentType = req.headers["content-type"] ?? "";
  const error = new ConnectError(
    `${handler.method.name} is bidirectional streaming, which needs HTTP/2: ` +
      `use h2c (connect-node: httpVersion "2") or the WebSocket transport`,
    Code.Unimplemented,
  );
  if (/^application\/connect\+(proto|json)\b/.test(contentType)) {
    // Connect streaming reports errors in the end-of-stream message of a 200.
    const json = JSON.stringify(endStreamToJson(new Headers(), error, undefined));
    const body = encodeEnvelope(endStreamFlag, new TextEncoder().encode(json));
    const r = res as http.ServerResponse; // both Node servers take a byte body the same way
    r.writeHead(200, { "Content-Type": contentType, "Content-Length": body.byteLength });
    r.end(body);
    return true;
  }
  if (/^application\/grpc(-web)?(\+\w+)?\b/.test(contentType)) {
    // A trailers-only response: the status travels in the headers.
    sendResponse(res, 200, {
      "Content-Type": contentType,
      "grpc-status": String(error.code),
      "grpc-message": encodeURIComponent(error.rawMessage),
    });
    return true;
  }
  return false;
}
