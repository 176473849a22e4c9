import * as http from "node:http";
import * as net from "node:net";
import { toBinary } from "@bufbuild/protobuf";
import { WebSocketServer } from "ws";
import { envelope } from "../../src/codec/tunnel/index.js";
import { WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { createWeatherServer, type WeatherServer } from "../../src/server/index.js";
import { findCity, readingAt } from "../../src/simulation/index.js";
import { CITY, type ChildBytes } from "../shared.js";

/** The reference server, plus what the benchmarks measure it against. */
export interface LiveServers {
  readonly url: string;
  /** ws:// URL of a bare WebSocket server answering every message with one reading (the unary baseline). */
  readonly echoUrl: string;
  /** http:// URL of a TCP proxy in front of the reference server that counts the bytes through it. */
  readonly proxyUrl: string;
  bytes(): ChildBytes;
  close(): Promise<void>;
}

export async function startLiveServers(tickMs: number, historyWindowMs: number): Promise<LiveServers> {
  // 20,000 fan-out subscribers over 4 WebSockets are 5,000 streams a connection, over the default limit of 4,096.
  // Every benchmark client comes from 127.0.0.1: the fan-out rows hold 2,000 SSE responses, over the per-address default.
  const server: WeatherServer = createWeatherServer({
    tickMs,
    historyWindowMs,
    onError: () => undefined,
    tunnel: { maxStreams: 10_000 },
    limits: { maxConnectionsPerAddress: 10_000 },
  });
  const { url, port } = await server.listen(0);

  const city = findCity(CITY);
  if (city === undefined) throw new Error(`unknown city ${CITY}`);
  const answer = envelope(toBinary(WeatherResponseSchema, readingAt(city, Math.floor(Date.now() / tickMs), tickMs)));
  const echoHttp = http.createServer((_req, res) => res.writeHead(404).end());
  const echo = new WebSocketServer({ server: echoHttp, perMessageDeflate: false });
  echo.on("connection", (ws) => ws.on("message", () => ws.send(answer, { binary: true })));
  const echoPort = await listen(echoHttp);

  let down = 0;
  let up = 0;
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on("data", (chunk: Buffer) => (up += chunk.length));
    upstream.on("data", (chunk: Buffer) => (down += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const proxyPort = await listen(proxy);

  return {
    url,
    echoUrl: `ws://127.0.0.1:${echoPort}/`,
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    bytes: () => ({ down, up }),
    async close() {
      echo.close();
      echoHttp.closeAllConnections();
      echoHttp.close();
      proxy.close();
      await server.close();
    },
  };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}
