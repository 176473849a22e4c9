import type * as http from "node:http";
import type * as http2 from "node:http2";
import * as net from "node:net";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Options of {@link createProtocolSniffingListener}. */
export interface ProtocolSniffingOptions {
  /**
   * How long a new connection may take to send enough bytes to tell HTTP/1.1
   * from HTTP/2 before it is closed. Until the hand-over neither Node server
   * sees the socket, so none of their timeouts protect it. Default 10000.
   */
  readonly firstBytesTimeoutMs?: number;
  /** Open connections in all; one more is closed at once. Default 10000. */
  readonly maxConnections?: number;
  /** Open connections from one client address; one more is closed at once. Default 1000. */
  readonly maxConnectionsPerAddress?: number;
}

/**
 * A TCP server that serves HTTP/1.1 and cleartext HTTP/2 with prior knowledge
 * (h2c) on one port: it reads the first bytes of each connection, looks for
 * the HTTP/2 connection preface, puts the bytes back and hands the socket to
 * the matching Node server.
 */
export function createProtocolSniffingListener(h1: http.Server, h2: http2.Http2Server, options: ProtocolSniffingOptions = {}): net.Server {
  const firstBytesTimeoutMs = options.firstBytesTimeoutMs ?? 10_000;
  const maxPerAddress = options.maxConnectionsPerAddress ?? 1000;
  const perAddress = new Map<string, number>();
  // No Nagle delay, as Node's own HTTP servers: a response written in pieces (an SSE head, then each event)
  // must not wait for the client's delayed ACK (40 ms) before its next small segment goes out.
  const server = net.createServer({ noDelay: true }, (socket) => {
    // Counted from accept to close, whichever server ends up owning the socket.
    const address = socket.remoteAddress ?? "";
    const count = (perAddress.get(address) ?? 0) + 1;
    if (count > maxPerAddress) {
      socket.destroy();
      return;
    }
    perAddress.set(address, count);
    socket.once("close", () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
    let head: Buffer = Buffer.alloc(0);
    const onTimeout = () => socket.destroy();
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, H2_PREFACE.length);
      const looksLikeH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (looksLikeH2 && head.length < H2_PREFACE.length) return; // wait for the whole preface
      socket.off("data", onData);
      socket.off("timeout", onTimeout);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(head);
      (looksLikeH2 ? h2 : h1).emit("connection", socket);
      // The HTTP/1 parser reads the unshifted bytes once the socket flows again;
      // the HTTP/2 session drains the socket's buffer itself when it attaches.
      if (!looksLikeH2) process.nextTick(() => socket.resume());
    };
    socket.on("data", onData);
    socket.setTimeout(firstBytesTimeoutMs, onTimeout);
    socket.on("error", () => socket.destroy());
  });
  // Node closes connections over this at accept.
  server.maxConnections = options.maxConnections ?? 10_000;
  return server;
}
