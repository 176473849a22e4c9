// The listener that tells HTTP/1.1 from h2c by the first bytes, on its own.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createProtocolSniffingListener } from "../../src/server/http/protocol-sniffing-listener.js";
import { h1Request, h2Request } from "../helpers/raw-http.js";

const servers: net.Server[] = [];
const clientSockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of clientSockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

interface Listening {
  readonly port: number;
  readonly url: string;
  /** Server-side sockets handed to each Node server. */
  readonly handedTo: { readonly h1: net.Socket[]; readonly h2: net.Socket[] };
}

async function listen(firstBytesTimeoutMs?: number): Promise<Listening> {
  const answer = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    (res as http.ServerResponse).end(`${req.httpVersion} ${req.url}`);
  };
  const h1 = http.createServer(answer);
  const h2 = http2.createServer(answer);
  const handedTo = { h1: [] as net.Socket[], h2: [] as net.Socket[] };
  h1.on("connection", (s: net.Socket) => handedTo.h1.push(s));
  h2.on("connection", (s: net.Socket) => handedTo.h2.push(s));
  const tcp = createProtocolSniffingListener(h1, h2, firstBytesTimeoutMs === undefined ? {} : { firstBytesTimeoutMs });
  tcp.on("connection", (s: net.Socket) => s.once("close", () => undefined));
  servers.push(tcp);
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  const { port } = tcp.address() as net.AddressInfo;
  return { port, url: `http://127.0.0.1:${port}`, handedTo };
}

function connect(port: number): net.Socket {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  clientSockets.push(socket);
  return socket;
}

const closed = (socket: net.Socket) => new Promise<void>((resolve) => socket.once("close", () => resolve()));

describe("protocol sniffing listener", () => {
  it("hands HTTP/1.1 and h2c connections on one port to the matching server", async () => {
    const { url, handedTo } = await listen();
    expect((await h1Request(url, { path: "/a" })).body).toBe("1.1 /a");
    expect((await h2Request(url, { path: "/b" })).body).toBe("2.0 /b");
    expect([handedTo.h1.length, handedTo.h2.length]).toEqual([1, 1]);
  });

  it("reassembles a preface that arrives byte by byte", async () => {
    const { port, handedTo } = await listen();
    const socket = connect(port);
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
    // An empty SETTINGS frame after the preface; the server answers with its own.
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    const answered = new Promise<Buffer>((resolve) => socket.once("data", resolve));
    for (const byte of preface) {
      socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    socket.write(settings);
    const frame = await answered;
    expect(frame[3], "frame type SETTINGS").toBe(4);
    expect(handedTo.h2).toHaveLength(1);
  });

  it("closes a connection that sends too little to decide within firstBytesTimeoutMs", async () => {
    const { port, handedTo } = await listen(50);
    const silent = connect(port);
    const halfPreface = connect(port);
    halfPreface.write("PRI * HTTP/2.0\r\n");
    await Promise.all([closed(silent), closed(halfPreface)]);
    expect([handedTo.h1.length, handedTo.h2.length]).toEqual([0, 0]);
  });

  it("lifts the first-bytes timeout once the socket is handed over", async () => {
    const { url, handedTo } = await listen(50);
    await h1Request(url, { path: "/" });
    await h2Request(url, { path: "/" });
    for (const socket of [...handedTo.h1, ...handedTo.h2]) expect(socket.timeout ?? 0).toBe(0);
  });
});
