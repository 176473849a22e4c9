import { cors as connectCors } from "@connectrpc/connect";
import { type NodeRequest, type NodeResponse, sendResponse, sendText } from "./node-http.js";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../codec/resume.js";
import { type AllowedOrigins, isOriginAllowed } from "../tunnel/origins.js";

const allowMethods = [...connectCors.allowedMethods].join(", ");
const allowHeaders = [...connectCors.allowedHeaders, RESUME_AFTER_HEADER, "Last-Event-ID", "Authorization"].join(", ");
const exposeHeaders = [...connectCors.exposedHeaders, RESUME_STATUS_HEADER].join(", ");

/**
 * Adds CORS headers for an allowed origin and answers preflight requests.
 * A request whose `Origin` is not allowed is answered `403` before any
 * handler runs, on every route: so a page elsewhere can neither read an
 * answer nor cause an effect with a "simple" request CORS would not
 * preflight. Returns true when the request was fully answered here.
 */
export function applyCors(allowed: AllowedOrigins, req: NodeRequest, res: NodeResponse): boolean {
  const origin = req.headers.origin;
  if (!isOriginAllowed(allowed, origin)) {
    sendText(res, 403, `origin ${origin ?? ""} is not allowed by this server's allowedOrigins\n`);
    return true;
  }
  if (origin !== undefined) {
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Vary", "Origin");
    res.setHeader("Access-Control-Expose-Headers", exposeHeaders);
  }
  if (req.method !== "OPTIONS" || req.headers["access-control-request-method"] === undefined) {
    return false;
  }
  if (origin === undefined) {
    sendText(res, 403, "a CORS preflight without Origin\n");
    return true;
  }
  sendResponse(res, 204, {
    "Access-Control-Allow-Methods": allowMethods,
    "Access-Control-Allow-Headers": allowHeaders,
    "Access-Control-Max-Age": "7200",
  });
  return true;
}
