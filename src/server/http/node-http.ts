import type * as http from "node:http";
import type * as http2 from "node:http2";

/** A request from either of Node's HTTP servers (HTTP/1.1 or h2c). */
export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
/** A response of either of Node's HTTP servers (HTTP/1.1 or h2c). */
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Writes a complete response. Both Node servers accept the same calls, but
 * their typings' overloads do not unify, hence one narrowing place.
 */
export function sendResponse(res: NodeResponse, status: number, headers: http.OutgoingHttpHeaders, body?: string): void {
  const r = res as http.ServerResponse;
  r.writeHead(status, headers);
  r.end(body);
}

/** Sends a short plain-text answer (errors, health). */
export function sendText(res: NodeResponse, status: number, text: string): void {
  sendResponse(res, status, { "Content-Type": "text/plain; charset=utf-8" }, text);
}
