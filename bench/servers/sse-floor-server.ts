import * as http2 from "node:http2";
import * as net from "node:net";
import type { AddressInfo } from "node:net";

/** A bare server that writes one shared event to every open stream each tick: what Node itself costs per SSE event. */
export interface SseFloorServer {
  readonly url: string;
  /** Writes so far (one per stream and tick). */
  writes(): number;
  close(): Promise<void>;
}

/**
 * The floor under the reference server's SSE rows: no SDK code, just Node's
 * own write of one shared `Buffer` (the size of a reading's SSE event) per
 * stream and tick. `"h1"`: one TCP connection per stream, each event one
 * `socket.write` (a response's chunk framing left out); `"h2"`: h2c
 * streams, each event one `Http2Stream.write`.
 */
export async function startSseFloorServer(kind: "h1" | "h2", tickMs: number, eventBytes: number): Promise<SseFloorServer> {
  const event = Buffer.alloc(eventBytes, "A");
  const open = new Set<net.Socket | http2.ServerHttp2Stream>();
  let writes = 0;
  const track = (s: net.Socket | http2.ServerHttp2Stream) => {
    open.add(s);
    s.once("close", () => open.delete(s));
    s.on("error", () => undefined);
  };
  let server: net.Server | http2.Http2Server;
  if (kind === "h1") {
    server = net.createServer({ noDelay: true }, track);
  } else {
    const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
    h2.on("stream", (stream) => {
      stream.respond({ ":status": 200, "content-type": "text/event-stream" });
      track(stream);
    });
    server = h2;
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const timer = setInterval(() => {
    for (const s of open) s.write(event);
    writes += open.size;
  }, tickMs);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    writes: () => writes,
    async close() {
      clearInterval(timer);
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
