import * as http from "node:http";
import type * as net from "node:net";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { encodeSseEvent, encodeSseRetry } from "../../src/codec/sse/encoder.js";
import { sseStatusOk } from "../../src/codec/sse/status.js";
import {
  type ControlFrame,
  DEFAULT_INITIAL_WINDOW,
  decodeFrameBatch,
  encodeFrameBatch,
  type Frame,
  TUNNEL_SUBPROTOCOL,
} from "../../src/codec/tunnel/index.js";
import { endEvent } from "../../src/server/sse/sse-call.js";
import { BATCH, type ChildBytes, RAW_WS_PATH } from "../shared.js";
import { batches, makePayloads, type Payloads } from "./payloads.js";

/**
 * A server that answers `SubscribeWeather` on every transport by replaying
 * bytes encoded before the run, so the page, not the server, is what a
 * benchmark measures. Formats come from the SDK's own encoders.
 */
export interface ReplayServer {
  readonly url: string;
  readonly payloadBytes: number;
  bytes(): ChildBytes;
  close(): Promise<void>;
}

const STREAM_PATH = "/weather.WeatherService/SubscribeWeather";
const UNARY_PATH = "/weather.WeatherService/GetWeather";
const PAGE = "<!doctype html><meta charset=utf-8><title>weather-sdk bench</title>";

export async function startReplayServer(count: number): Promise<ReplayServer> {
  const payloads = makePayloads(count);
  const rawBatches = batches(payloads.envelopes, BATCH);
  const connectBody = withLast(rawBatches, connectEndStream());
  const grpcWebBody = withLast(rawBatches, grpcWebTrailer());
  const sseBody = sseChunks(payloads);
  const tunnel = createTunnelReplay(rawBatches, payloads.envelopes[0] ?? new Uint8Array(0));

  const sockets = new Set<net.Socket>();
  let closedDown = 0;
  let closedUp = 0;
  const server = http.createServer((req, res) => {
    const drain = readBody(req);
    const type = req.headers["content-type"] ?? "";
    if (req.method === "POST" && req.url === STREAM_PATH && type.startsWith("application/connect+proto")) {
      void drain.then(() => replayHttp(res, "application/connect+proto", connectBody));
    } else if (req.method === "POST" && req.url === STREAM_PATH && type.startsWith("application/grpc-web")) {
      void drain.then(() => replayHttp(res, "application/grpc-web+proto", grpcWebBody));
    } else if (req.method === "POST" && req.url === `/sse${STREAM_PATH}`) {
      void drain.then(() =>
        replayHttp(res, "text/event-stream", sseBody, { "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" }),
      );
    } else {
      res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    }
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      closedDown += socket.bytesWritten;
      closedUp += socket.bytesRead;
      sockets.delete(socket);
    });
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(TUNNEL_SUBPROTOCOL) ? TUNNEL_SUBPROTOCOL : false),
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (req.url === RAW_WS_PATH) {
        // No flow control: the baseline is the bare socket.
        for (const batch of rawBatches) ws.send(batch, { binary: true });
      } else {
        tunnel(ws);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    payloadBytes: payloads.payloadBytes,
    bytes() {
      let down = closedDown;
      let up = closedUp;
      for (const s of sockets) {
        down += s.bytesWritten;
        up += s.bytesRead;
      }
      return { down, up };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function withLast(chunks: readonly Buffer[], tail: Uint8Array): Buffer[] {
  const out = chunks.slice(0, -1);
  const last = chunks[chunks.length - 1];
  out.push(Buffer.concat(last === undefined ? [tail] : [last, tail]));
  return out;
}

/** Connect's end-of-stream envelope for a clean end: flags 0x02, JSON `{}`. */
function connectEndStream(): Uint8Array {
  const json = Buffer.from("{}");
  const out = Buffer.alloc(5 + json.length);
  out[0] = 0x02;
  out.writeUInt32BE(json.length, 1);
  json.copy(out, 5);
  return out;
}

/** gRPC-Web's trailers frame: flags 0x80, HTTP/1-style header lines. */
function grpcWebTrailer(): Uint8Array {
  const text = Buffer.from("grpc-status: 0\r\ngrpc-message: \r\n");
  const out = Buffer.alloc(5 + text.length);
  out[0] = 0x80;
  out.writeUInt32BE(text.length, 1);
  text.copy(out, 5);
  return out;
}

/** The SSE response exactly as the reference route writes it: retry hint, `id:` + base64 events, `end` event. */
function sseChunks(payloads: Payloads): Buffer[] {
  const out: Buffer[] = [];
  let text = encodeSseRetry(1000);
  for (let i = 0; i < payloads.messages.length; i++) {
    const message = payloads.messages[i] as Uint8Array;
    text += encodeSseEvent({ id: payloads.cursors[i], data: Buffer.from(message).toString("base64") });
    if ((i + 1) % BATCH === 0) {
      out.push(Buffer.from(text));
      text = "";
    }
  }
  out.push(Buffer.from(text + endEvent(sseStatusOk())));
  return out;
}

async function readBody(req: http.IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // The request is always the same; only its arrival matters.
  }
}

/** Writes the chunks one by one, waiting for the socket to drain; stops when the client goes away. */
async function replayHttp(
  res: http.ServerResponse,
  contentType: string,
  chunks: readonly Buffer[],
  extra: Record<string, string> = {},
): Promise<void> {
  res.writeHead(200, { "content-type": contentType, ...extra });
  for (const chunk of chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
  }
  if (!res.destroyed) res.end();
}

interface ReplayStream {
  readonly id: number;
  readonly path: string;
  credit: number;
  next: number;
  running: boolean;
  done: boolean;
}

/**
 * The tunnel side: answers each SubscribeWeather `open` + `half_close` with
 * `headers`, data frames of {@link BATCH} envelopes (one WebSocket message
 * each) while the stream's credit lasts, and `end`; resumes on
 * `window_update`. GetWeather gets one pre-encoded answer.
 */
function createTunnelReplay(rawBatches: readonly Buffer[], answer: Uint8Array): (ws: WebSocket) => void {
  const cache = new Map<number, Uint8Array[]>();
  // GetWeather: the answer and end in one message, as the reference server batches them (no headers: there are none).
  const unaryAnswer = (streamId: number) =>
    encodeFrameBatch([
      { kind: "data", streamId, chunks: [answer] },
      { kind: "end", streamId, code: 0, message: "", details: [], trailers: [] },
    ]);
  const dataBytes = rawBatches.map((b) => b.length);
  const messagesFor = (streamId: number): Uint8Array[] => {
    let messages = cache.get(streamId);
    if (messages === undefined) {
      const n = rawBatches.length;
      messages = rawBatches.map((chunk, i) => {
        const frames: Frame[] = [];
        frames.push({ kind: "data", streamId, chunks: [chunk] });
        if (i === n - 1) frames.push({ kind: "end", streamId, code: 0, message: "", details: [], trailers: [] });
        return encodeFrameBatch(frames);
      });
      cache.set(streamId, messages);
    }
    return messages;
  };

  return (ws) => {
    const streams = new Map<number, ReplayStream>();
    const pump = (s: ReplayStream) => {
      const messages = messagesFor(s.id);
      while (!s.done && s.next < messages.length && s.credit > 0) {
        ws.send(messages[s.next] as Uint8Array, { binary: true });
        s.credit -= dataBytes[s.next] as number;
        s.next++;
      }
      if (s.next >= messages.length) streams.delete(s.id);
    };
    const control = (frame: ControlFrame) => {
      switch (frame.kind) {
        case "open":
          streams.set(frame.streamId, {
            id: frame.streamId,
            path: frame.path,
            credit: frame.initialWindow === 0 ? DEFAULT_INITIAL_WINDOW : frame.initialWindow,
            next: 0,
            running: false,
            done: false,
          });
          return;
        case "halfClose": {
          const s = streams.get(frame.streamId);
          if (s === undefined || s.running) return;
          if (s.path === UNARY_PATH) {
            streams.delete(s.id);
            ws.send(unaryAnswer(s.id), { binary: true });
            return;
          }
          s.running = true;
          pump(s);
          return;
        }
        case "windowUpdate": {
          const s = streams.get(frame.streamId);
          if (s === undefined) return;
          s.credit += frame.bytes;
          if (s.running) pump(s);
          return;
        }
        case "cancel": {
          const s = streams.get(frame.streamId);
          if (s !== undefined) s.done = true;
          streams.delete(frame.streamId);
          return;
        }
        case "ping":
          ws.send(encodeFrameBatch([{ kind: "pong", streamId: 0, payload: frame.payload }]), { binary: true });
          return;
        default:
          return;
      }
    };
    ws.on("message", (data: RawData) => {
      decodeFrameBatch(toBytes(data), { data: () => undefined, control });
    });
  };
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
