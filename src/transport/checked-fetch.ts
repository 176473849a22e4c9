import { Code, ConnectError } from "@connectrpc/connect";
import { transportOpenFailure } from "./open-error.js";

/**
 * Wraps `fetch` for the weather client's Connect and gRPC-Web transports so that a
 * transport that never opened says so: a fetch that fails before any response,
 * or a response that is not the protocol's (a proxy's HTML error page, a 404
 * from a server without the route), becomes `Unavailable` with a
 * `TransportOpenError` cause, and a body cut mid-stream becomes `Unavailable`.
 */
export function createCheckedFetch(
  fetchFn: typeof globalThis.fetch,
  protocol: string,
  isProtocolContentType: (contentType: string) => boolean,
): typeof globalThis.fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    let response: Response;
    try {
      response = await fetchFn(input, init);
    } catch (e) {
      if (init?.signal?.aborted === true) throw e;
      throw transportOpenFailure(`${protocol} request to ${url} failed before any response: ${String(e)}`);
    }
    const contentType = (response.headers.get("content-type") ?? "").toLowerCase();
    if (!isProtocolContentType(contentType)) {
      await response.body?.cancel().catch(() => undefined);
      throw transportOpenFailure(`${protocol} request to ${url} got HTTP ${response.status} "${contentType}", not a ${protocol} response`);
    }
    if (response.body === null) return response;
    const reader = response.body.getReader();
    // A call ended by its signal (a closed subscription) cancels the response body itself, which
    // ends the HTTP response: the wrapper below is not read any more, and not every fetch aborts
    // a body that is being read through another stream.
    const signal = init?.signal;
    const cancelOnAbort = () => void reader.cancel(signal?.reason).catch(() => undefined);
    if (signal?.aborted === true) cancelOnAbort();
    else signal?.addEventListener("abort", cancelOnAbort, { once: true });
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            signal?.removeEventListener("abort", cancelOnAbort);
            controller.close();
          } else controller.enqueue(value);
        } catch (e) {
          controller.error(
            new ConnectError(`${protocol} response from ${url} was cut: ${String(e)}`, Code.Unavailable, undefined, undefined, e),
          );
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** Content types a Connect server answers with (messages, streams, and JSON errors). */
export const isConnectContentType = (t: string): boolean =>
  t.startsWith("application/proto") || t.startsWith("application/connect+") || t.startsWith("application/json");

/** Content types a gRPC-Web server answers with. */
export const isGrpcWebContentType = (t: string): boolean => t.startsWith("application/grpc-web");
