/**
 * Names shared by the SSE server route and the SSE client transport. The
 * mapping itself is specified in docs/sse-protocol.md.
 */

/** Path prefix of the SSE endpoints: `/sse/{package.Service}/{Method}`. */
export const SSE_PATH_PREFIX = "/sse";

/** Media type of every SSE response (the server adds no charset: the stream is always UTF-8). */
export const SSE_CONTENT_TYPE = "text/event-stream";

/** The standard header a reconnecting client sends with the `id:` of the last event it got. */
export const SSE_LAST_EVENT_ID_HEADER = "Last-Event-ID";

/**
 * Query parameter equivalent of {@link SSE_LAST_EVENT_ID_HEADER}, for clients
 * that cannot set headers (a browser `EventSource` resuming from a cursor it
 * stored). The header wins when both are present.
 */
export const SSE_LAST_EVENT_ID_PARAM = "lastEventId";

/**
 * Name of the final event of every SSE response: its data is the call's
 * status as JSON (see `status.ts`). A stream that ends without it was cut.
 */
export const SSE_END_EVENT = "end";

/**
 * Name of the event a server sends before the first message when it honoured a
 * resume request: data `recovered` (nothing lost) or `gap` (the cursor was
 * older than the server's history; messages were skipped).
 */
export const SSE_RESUME_EVENT = "resume";

/**
 * The URL of a method's SSE endpoint: `baseUrl` + `/sse/{typeName}/{method}`.
 * A trailing slash on `baseUrl` is ignored.
 */
export function sseMethodUrl(baseUrl: string, serviceTypeName: string, methodName: string): string {
  return `${baseUrl.replace(/\/$/, "")}${SSE_PATH_PREFIX}/${serviceTypeName}/${methodName}`;
}
