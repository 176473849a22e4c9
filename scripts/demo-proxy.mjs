// The demo's fault proxy: the page talks to the reference server through it, and the demo's
// controls break the network here, never in the server. Dev-only; not part of weather-sdk.
//   dropAll()                every open connection (WebSocket, SSE, fetch) is cut at once
//   webSocketBlocked = true  upgrades are refused with 403 (a proxy that blocks WebSockets)
//   latencyMs = N            every chunk waits N ms in each direction, in order
// While the upstream is down, new connections are cut as a dead server's would be.
import { request as httpRequest, createServer } from "node:http";
import { connect } from "node:net";
import { Transform } from "node:stream";
import { setTimeout } from "node:timers";

/** Holds every chunk `latencyMs()` ms, keeping their order when the latency changes. */
class Delay extends Transform {
  constructor(latencyMs) {
    super();
    this.latencyMs = latencyMs;
    this.releaseAt = 0;
  }
  _transform(chunk, _encoding, done) {
    const now = Date.now();
    const ms = this.latencyMs();
    if (ms === 0 && this.releaseAt <= now) return done(null, chunk);
    this.releaseAt = Math.max(now + ms, this.releaseAt);
    setTimeout(() => this.push(chunk), this.releaseAt - now);
    done();
  }
  _flush(done) {
    setTimeout(done, Math.max(0, this.releaseAt - Date.now()));
  }
}

/**
 * A proxy to `upstream()` (`{ host, port }`, or undefined while the server is down).
 * @returns the node:http server (listen on it) and its fault switches.
 */
export function createFaultProxy(upstream) {
  const sockets = new Set();
  const faults = { webSocketBlocked: false, latencyMs: 0 };
  const latency = () => faults.latencyMs;
  const server = createServer();

  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  server.on("request", (req, res) => {
    const target = upstream();
    if (target === undefined) return req.socket.destroy();
    const out = httpRequest({ ...target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      res.flushHeaders();
      answer.pipe(new Delay(latency)).pipe(res);
      answer.once("error", () => res.destroy());
    });
    out.once("error", () => req.socket.destroy());
    res.once("close", () => out.destroy());
    req.pipe(new Delay(latency)).pipe(out);
  });

  server.on("upgrade", (req, socket, head) => {
    socket.webSocket = true;
    const target = upstream();
    if (faults.webSocketBlocked) {
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      return;
    }
    if (target === undefined) return socket.destroy();
    const up = connect(target.port, target.host, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) up.write(head);
      up.pipe(new Delay(latency)).pipe(socket);
      socket.pipe(new Delay(latency)).pipe(up);
    });
    const cut = () => {
      up.destroy();
      socket.destroy();
    };
    up.once("error", cut).once("close", cut);
    socket.once("error", cut).once("close", cut);
  });

  return {
    server,
    faults,
    /** Cuts every connection open through the proxy; returns how many. */
    dropAll() {
      const count = sockets.size;
      for (const socket of sockets) socket.destroy();
      return count;
    },
    /** Cuts the connections that carry WebSockets. */
    dropWebSockets() {
      let count = 0;
      for (const socket of sockets) {
        if (socket.webSocket === true) {
          socket.destroy();
          count++;
        }
      }
      return count;
    },
    /** Connections open through the proxy now. */
    get connections() {
      return sockets.size;
    },
  };
}
