// A WebSocket tunnel client for server tests and the conformance runner
// (test/conformance/) that works at the frame level: hand-built frames go out
// through the codec, every frame that comes back is logged in order, and tests
// wait on events (a frame, the close), never on time. It talks to any server
// at a tunnel URL; nothing here knows the reference server.
import { create, type DescMessage, fromBinary, type MessageInitShape, type MessageShape, toBinary } from "@bufbuild/protobuf";
import WebSocket from "ws";
import {
  type ControlFrame,
  decodeFrameBatch,
  encodeFrameBatch,
  envelope,
  forEachEnvelope,
  type Frame,
  type HeaderList,
  TUNNEL_SUBPROTOCOL,
} from "../../src/codec/tunnel/index.js";

/** A `data` frame as received: its envelopes' payloads, and the frame's size. */
export interface ReceivedData {
  readonly kind: "data";
  readonly streamId: number;
  readonly messages: Uint8Array[];
  readonly bytes: number;
}
export type Received = ControlFrame | ReceivedData;
export type EndFrame = Extract<ControlFrame, { kind: "end" }>;

export interface RawTunnel {
  /** The subprotocol the server selected. */
  readonly protocol: string;
  /** Every frame received, in order. */
  readonly frames: readonly Received[];
  /** For each frame in `frames`, the index of the WebSocket message that carried it. */
  readonly messageOf: readonly number[];
  send(frames: readonly Frame[]): void;
  /** Sends bytes or text as one WebSocket message, as is. */
  sendRaw(data: Uint8Array | string): void;
  /** The first frame at or after `from` that matches; rejects if the connection closes first. */
  waitFor(what: string, match: (frame: Received) => boolean, from?: number): Promise<Received>;
  /** The `end` frame of a stream. */
  end(streamId: number): Promise<EndFrame>;
  /** The `data` frames of a stream so far. */
  dataOf(streamId: number): ReceivedData[];
  /** The close code and reason, once the connection closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export interface RawTunnelOptions {
  /** `hello` headers, sent as the first frame; `false` sends no hello. Default `[]`. */
  readonly hello?: HeaderList | false;
  readonly origin?: string;
}

/** The tunnel URL of a server base URL (`http://…` → `ws://…/ws`). */
export function tunnelUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, "ws")}/ws`;
}

/** Opens a tunnel connection to the server at `baseUrl` (its tunnel at `/ws`) and, unless told not to, sends `hello`. */
export function openRawTunnel(baseUrl: string, options: RawTunnelOptions = {}): Promise<RawTunnel> {
  return connectRawTunnel(tunnelUrl(baseUrl), options);
}

/** Opens a tunnel connection to the tunnel endpoint `url` (`ws://host:port/path`) and, unless told not to, sends `hello`. */
export async function connectRawTunnel(url: string, options: RawTunnelOptions = {}): Promise<RawTunnel> {
  const ws = new WebSocket(url, [TUNNEL_SUBPROTOCOL], {
    headers: options.origin === undefined ? {} : { origin: options.origin },
    perMessageDeflate: false,
  });
  const frames: Received[] = [];
  const messageOf: number[] = [];
  const waiters = new Set<{ match: (f: Received) => boolean; resolve: (f: Received) => void }>();
  let messages = 0;
  let closeInfo: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      resolve(closeInfo);
    });
  });
  const record = (frame: Received) => {
    frames.push(frame);
    messageOf.push(messages);
    for (const w of waiters) {
      if (w.match(frame)) {
        waiters.delete(w);
        w.resolve(frame);
      }
    }
  };
  ws.on("message", (data: Buffer) => {
    decodeFrameBatch(new Uint8Array(data), {
      data(streamId, buf, start, end) {
        const payloads: Uint8Array[] = [];
        forEachEnvelope(buf, start, end, (_flags, s, e) => payloads.push(buf.slice(s, e)));
        record({ kind: "data", streamId, messages: payloads, bytes: end - start });
      },
      control: record,
    });
    messages++;
  });
  ws.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode ?? 0}`)));
    ws.once("error", reject);
  });
  if (options.hello !== false) ws.send(encodeFrameBatch([{ kind: "hello", streamId: 0, headers: options.hello ?? [] }]));

  const tunnel: RawTunnel = {
    protocol: ws.protocol,
    frames,
    messageOf,
    send: (batch) => ws.send(encodeFrameBatch(batch)),
    sendRaw: (data) => ws.send(data),
    waitFor(what, match, from = 0) {
      for (let i = from; i < frames.length; i++) {
        const f = frames[i] as Received;
        if (match(f)) return Promise.resolve(f);
      }
      return new Promise<Received>((resolve, reject) => {
        const waiter = { match, resolve };
        waiters.add(waiter);
        void closed.then(({ code, reason }) => {
          if (!waiters.delete(waiter)) return;
          reject(new Error(`connection closed (${code} ${reason}) while waiting for ${what}; got ${describe(frames)}`));
        });
      });
    },
    async end(streamId) {
      const f = await tunnel.waitFor(`end of stream ${streamId}`, (x) => x.kind === "end" && x.streamId === streamId);
      return f as EndFrame;
    },
    dataOf: (streamId) => frames.filter((f): f is ReceivedData => f.kind === "data" && f.streamId === streamId),
    closed,
    close: () => ws.close(1000),
  };
  return tunnel;
}

/**
 * The HTTP status an upgrade request to `url` gets (101 when it succeeds),
 * offering `protocols` and sending `origin`.
 */
export function upgradeStatus(url: string, protocols: string[], origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers: origin === undefined ? {} : { origin } });
    ws.once("unexpected-response", (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    ws.once("open", () => {
      resolve(101);
      ws.close();
    });
    ws.once("error", reject);
  });
}

/** Procedure paths of `weather.WeatherService`. */
export const WEATHER = {
  getWeather: "/weather.WeatherService/GetWeather",
  subscribeWeather: "/weather.WeatherService/SubscribeWeather",
  reportBatch: "/weather.WeatherService/ReportBatch",
  weatherChat: "/weather.WeatherService/WeatherChat",
} as const;

/** Numbers streams 1, 2, 3, … and builds their `open` frames. */
export function streamOpener(): (path: string, headers?: HeaderList, initialWindow?: number) => { id: number; frame: Frame } {
  let nextId = 1;
  return (path, headers = [], initialWindow = 0) => {
    const id = nextId++;
    return { id, frame: { kind: "open", streamId: id, path, headers, initialWindow } };
  };
}

/** A request `data` frame holding one envelope per message. */
export function dataFrame<Desc extends DescMessage>(streamId: number, schema: Desc, ...messages: MessageInitShape<Desc>[]): Frame {
  return { kind: "data", streamId, chunks: messages.map((m) => envelope(toBinary(schema, create(schema, m)))) };
}

/** Every response message of a stream, decoded. */
export function messagesOf<Desc extends DescMessage>(tunnel: RawTunnel, streamId: number, schema: Desc): MessageShape<Desc>[] {
  return tunnel.dataOf(streamId).flatMap((d) => d.messages.map((m) => fromBinary(schema, m)));
}

/** The n-th response message of a stream, once it arrived. */
export async function nthMessage<Desc extends DescMessage>(
  tunnel: RawTunnel,
  streamId: number,
  schema: Desc,
  n: number,
): Promise<MessageShape<Desc>> {
  let seen = 0;
  await tunnel.waitFor(`message ${n} of stream ${streamId}`, (f) => {
    if (f.kind !== "data" || f.streamId !== streamId) return false;
    seen += f.messages.length;
    return seen >= n;
  });
  const all = messagesOf(tunnel, streamId, schema);
  return all[n - 1] as MessageShape<Desc>;
}

function describe(frames: readonly Received[]): string {
  return (
    frames.map((f) => (f.kind === "end" ? `end(${f.streamId}: ${f.code} ${f.message})` : `${f.kind}(${f.streamId})`)).join(", ") ||
    "nothing"
  );
}
