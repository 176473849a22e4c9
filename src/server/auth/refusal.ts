import type { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJson } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";

/** An HTTP answer, runtime-neutral: what an adapter writes as it is. */
export interface PlainResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

const grpcContentType = /^application\/grpc(-web)?(\+\w+)?\b/i;

/**
 * The answer to an RPC refused before it was dispatched (authentication),
 * in the caller's protocol, read from its request `Content-Type`:
 * - gRPC and gRPC-Web: a trailers-only response, `200` with `grpc-status`
 *   and `grpc-message` in the headers;
 * - Connect (unary, streaming, GET): the code's HTTP status (401, 403, …)
 *   and a Connect JSON error body. A Connect streaming client reads the code
 *   from the status before any stream opens, so it never reports "open".
 */
export function refusalResponse(requestContentType: string | null, error: ConnectError): PlainResponse {
  const contentType = requestContentType ?? "";
  if (grpcContentType.test(contentType)) {
    const headers = new Headers({ "content-type": contentType });
    setTrailerStatus(headers, error);
    return { status: 200, headers, body: "" };
  }
  return {
    status: codeToHttpStatus(error.code),
    headers: new Headers({ "content-type": "application/json" }),
    body: JSON.stringify(errorToJson(error, undefined)),
  };
}
