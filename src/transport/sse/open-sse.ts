import { Code, ConnectError } from "@connectrpc/connect";
import { getAbortSignalReason } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus, errorFromJson } from "@connectrpc/connect/protocol-connect";
import { SSE_CONTENT_TYPE } from "../../codec/sse/protocol.js";
import { transportOpenFailure } from "../open-error.js";
import type { CredentialsMode } from "../../fetch-types.js";

/** The `fetch` the SSE transport calls: the global one or any compatible function. */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

/** One SSE request, ready to send. */
export interface SseFetchRequest {
  readonly fetch: FetchFn;
  readonly url: string;
  readonly header: Headers;
  readonly body: Uint8Array | string;
  readonly signal: AbortSignal;
  readonly credentials: CredentialsMode | undefined;
}

/** An open `text/event-stream` response. */
export interface OpenSse {
  readonly header: Headers;
  readonly body: ReadableStream<Uint8Array>;
}

/**
 * POSTs the request and checks the answer is an event stream.
 *
 * @throws ConnectError: the code, message and details of a Connect JSON error
 *   body when the server refused the call; the signal's reason once it
 *   aborted; otherwise the transport never opened (the network failed, or the
 *   answer is not an event stream, e.g. a proxy's error page), which is
 *   `unavailable` with a `TransportOpenError` cause, the fallback marker.
 */
export async function openSse(req: SseFetchRequest): Promise<OpenSse> {
  let res: Response;
  try {
    res = await req.fetch(req.url, {
      method: "POST",
      headers: req.header,
      body: req.body as BodyInit,
      signal: req.signal,
      credentials: req.credentials,
      cache: "no-store",
    });
  } catch (e) {
    if (req.signal.aborted) throw ConnectError.from(getAbortSignalReason(req.signal), Code.Canceled);
    throw transportOpenFailure(`SSE request to ${req.url} failed: ${String(e)}`);
  }
  if (res.status !== 200) throw await errorFromResponse(req.url, res);
  const contentType = res.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith(SSE_CONTENT_TYPE) || res.body === null) {
    await res.body?.cancel().catch(() => undefined);
    throw transportOpenFailure(`expected ${SSE_CONTENT_TYPE} from ${req.url}, got "${contentType}"`);
  }
  // Copied: a fetch Response's headers are immutable, and a resume event may add one.
  return { header: new Headers(res.headers), body: res.body };
}

/** The server's Connect JSON error, or, for any other answer (a proxy's page), an open failure. */
async function errorFromResponse(url: string, res: Response): Promise<ConnectError> {
  const notOurs = transportOpenFailure(`SSE request to ${url} got HTTP ${res.status} without a Connect error body`);
  let json: unknown;
  try {
    json = JSON.parse(await res.text());
  } catch {
    return notOurs;
  }
  if (typeof json !== "object" || json === null || !("code" in json) || typeof json.code !== "string") return notOurs;
  const fallback = new ConnectError(`HTTP ${res.status}`, codeFromHttpStatus(res.status));
  try {
    return errorFromJson(json as Parameters<typeof errorFromJson>[0], res.headers, fallback);
  } catch {
    return fallback;
  }
}
