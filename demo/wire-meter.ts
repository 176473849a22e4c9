// Counts the bytes the page receives from the server: WebSocket message
// payloads, and response bodies of fetch (Connect, gRPC-Web, SSE) after HTTP
// decoding. Headers and framing below those are not visible to a page.
import type { WebSocketConstructor } from "../src/index.js";

/** Byte counters, and the WebSocket and fetch that feed them. */
export interface WireMeter {
  /** Bytes received since the page loaded. */
  readonly receivedBytes: number;
  readonly webSocket: WebSocketConstructor;
  readonly fetch: typeof fetch;
}

export function createWireMeter(): WireMeter {
  let receivedBytes = 0;
  const count = (event: MessageEvent) => {
    const data: unknown = event.data;
    if (data instanceof ArrayBuffer) receivedBytes += data.byteLength;
    else if (typeof data === "string") receivedBytes += data.length;
  };
  class MeteredWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", count);
    }
  }
  const meteredFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (response.body === null) return response;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          receivedBytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return {
    get receivedBytes() {
      return receivedBytes;
    },
    webSocket: MeteredWebSocket,
    fetch: meteredFetch,
  };
}
