import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { type AllowedOrigins, applyCors } from "./cors.js";
import { type NodeRequest, type NodeResponse, sendText } from "./node-http.js";

/** Serves one path prefix outside the RPC routes (SSE, health, …); returns false to pass. */
export type RouteHandler = (req: NodeRequest, res: NodeResponse, pathname: string) => boolean;

export interface HttpHandlerOptions {
  readonly handlers: readonly UniversalHandler[];
  readonly allowedOrigins: AllowedOrigins;
  /** Tried in order before the RPC routes. */
  readonly routes: readonly RouteHandler[];
  readonly onError: (error: unknown) => void;
}

/**
 * The Node request listener for HTTP/1.1 and h2c: CORS, extra routes, then
 * Connect / gRPC / gRPC-Web from the shared router's universal handlers.
 */
export function createHttpHandler(options: HttpHandlerOptions): (req: NodeRequest, res: NodeResponse) => void {
  const byPath = new Map(options.handlers.map((h) => [h.requestPath, h]));
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
    const uReq = universalRequestFromNodeRequest(req, res, undefined, undefined);
    handler(uReq)
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason: unknown) => {
        // A client that went away mid-response is not a server fault.
        if (ConnectError.from(reason).code !== Code.Aborted) options.onError(reason);
      });
  };
}
