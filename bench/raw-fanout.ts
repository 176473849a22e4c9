/**
 * The fan-out section's light subscribers: raw tunnel streams on a `ws`
 * socket that read only each reading's `timestamp`, and raw SSE responses
 * that read only each event's `id:` (the same timestamp), so that 20,000 of
 * them at 10 readings/s fit in one client process next to the server on a
 * small machine and the rows measure the server. (The SDK's own per-message cost
 * is what sections 1–4 measure.)
 */
import { type Agent, request } from "node:http";
import type { ClientHttp2Session } from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { WebSocket } from "ws";
import {
  decodeFrameBatch,
  encodeFrameBatch,
  envelope,
  ENVELOPE_HEADER_BYTES,
  type Frame,
  TUNNEL_SUBPROTOCOL,
} from "../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema } from "../src/gen/weather_pb.js";

const SUBSCRIBE_PATH = "/weather.WeatherService/SubscribeWeather";
/** Credit for a whole run (10 readings/s of ~50 B): no window updates needed. */
const WINDOW = 1 << 30;
const PING_MS = 5000;

/** Opens `count` subscriptions over one socket; `onReading(timestampMs)` per reading, `onFirst` per stream's first. */
export function openRawConnection(
  url: string,
  cityCodes: readonly string[],
  onReading: (timestampMs: number) => void,
  onFirst: () => void,
): { close(): void } {
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, TUNNEL_SUBPROTOCOL, { perMessageDeflate: false });
  socket.binaryType = "nodebuffer";
  const seen = new Uint8Array(cityCodes.length * 2 + 2);
  let ping: NodeJS.Timeout | undefined;
  socket.on("open", () => {
    const frames: Frame[] = [{ kind: "hello", streamId: 0, headers: [] }];
    cityCodes.forEach((cityCode, i) => {
      const streamId = i * 2 + 1;
      frames.push(
        { kind: "open", streamId, path: SUBSCRIBE_PATH, headers: [], initialWindow: WINDOW },
        { kind: "data", streamId, chunks: [envelope(toBinary(GetWeatherRequestSchema, create(GetWeatherRequestSchema, { cityCode })))] },
        { kind: "halfClose", streamId },
      );
    });
    socket.send(encodeFrameBatch(frames));
    ping = setInterval(() => socket.send(encodeFrameBatch([{ kind: "ping", streamId: 0, payload: 1 }])), PING_MS);
  });
  socket.on("message", (data: Buffer) => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    decodeFrameBatch(bytes, {
      data(streamId, buf, start, end) {
        for (let pos = start; pos + ENVELOPE_HEADER_BYTES <= end;) {
          const length = ((buf[pos + 1] ?? 0) << 24) | ((buf[pos + 2] ?? 0) << 16) | ((buf[pos + 3] ?? 0) << 8) | (buf[pos + 4] ?? 0);
          const body = pos + ENVELOPE_HEADER_BYTES;
          onReading(readTimestamp(buf, body, body + length));
          pos = body + length;
        }
        const slot = (streamId - 1) / 2;
        if (seen[slot] === 0) {
          seen[slot] = 1;
          onFirst();
        }
      },
      control(frame) {
        if (frame.kind === "end") console.error(`stream ${frame.streamId} ended: ${frame.code} ${frame.message}`);
      },
    });
  });
  socket.on("close", () => clearInterval(ping));
  return { close: () => socket.close() };
}

/** Field 4 (`timestamp`, int64 as a varint) of a `WeatherResponse`, without decoding the rest. */
function readTimestamp(buf: Uint8Array, start: number, end: number): number {
  let pos = start;
  while (pos < end) {
    const tag = buf[pos++] ?? 0;
    const wire = tag & 7;
    if (tag === 0x20) {
      let value = 0;
      let scale = 1;
      for (;;) {
        const b = buf[pos++] ?? 0;
        value += (b & 0x7f) * scale;
        if (b < 0x80) return value;
        scale *= 128;
      }
    }
    if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 0) while ((buf[pos++] ?? 0) >= 0x80);
    else if (wire === 2) {
      let length = 0;
      let scale = 1;
      for (;;) {
        const b = buf[pos++] ?? 0;
        length += (b & 0x7f) * scale;
        if (b < 0x80) break;
        scale *= 128;
      }
      pos += length;
    } else return Number.NaN;
  }
  return Number.NaN;
}

/**
 * One raw SSE subscription: a `POST` of the binary request with Node's HTTP
 * client (as the SDK's SSE transport sends it, so the server does the same
 * work), reading only each event's `id:` (the reading's timestamp) from the
 * stream; `onReading(timestampMs)` per reading, `onFirst` once.
 */
export function openRawSseSubscription(
  url: string,
  cityCode: string,
  agent: Agent,
  onReading: (timestampMs: number) => void,
  onFirst: () => void,
): { close(): void } {
  const body = toBinary(GetWeatherRequestSchema, create(GetWeatherRequestSchema, { cityCode }));
  const events = readEventIds(onReading, onFirst);
  const req = request(`${url}/sse${SUBSCRIBE_PATH}`, {
    method: "POST",
    agent,
    headers: { "content-type": "application/proto", accept: "text/event-stream" },
  });
  req.on("response", (res) => {
    res.setEncoding("latin1");
    res.on("data", events.push);
    res.on("end", () => console.error(`SSE stream of ${cityCode} ended: ${events.rest()}`));
  });
  req.on("error", (e) => console.error(`SSE stream of ${cityCode}: ${String(e)}`));
  req.end(body);
  return { close: () => req.destroy() };
}

/**
 * One raw SSE subscription over HTTP/2 (h2c): the same `POST` as
 * {@link openRawSseSubscription}, as one stream of `session` (many
 * subscriptions share a session, as a browser's SSE responses share its one
 * HTTP/2 connection per origin), reading only each event's `id:`.
 */
export function openRawSseH2Subscription(
  session: ClientHttp2Session,
  cityCode: string,
  onReading: (timestampMs: number) => void,
  onFirst: () => void,
): { close(): void } {
  const body = toBinary(GetWeatherRequestSchema, create(GetWeatherRequestSchema, { cityCode }));
  const events = readEventIds(onReading, onFirst);
  const stream = session.request({
    ":method": "POST",
    ":path": `/sse${SUBSCRIBE_PATH}`,
    "content-type": "application/proto",
    accept: "text/event-stream",
  });
  stream.setEncoding("latin1");
  stream.on("data", events.push);
  stream.on("end", () => console.error(`SSE stream of ${cityCode} (HTTP/2) ended: ${events.rest()}`));
  stream.on("error", (e) => console.error(`SSE stream of ${cityCode} (HTTP/2): ${String(e)}`));
  stream.end(body);
  return { close: () => stream.close() };
}

/**
 * Reads an SSE body given as latin1 text chunks: only whole events (ended by
 * a blank line), only each event's `id:`, handed to `onReading`; `onFirst`
 * runs once, at the first. `rest()` is the part of an event not yet ended.
 */
function readEventIds(
  onReading: (timestampMs: number) => void,
  onFirst: () => void,
): { push: (chunk: string) => void; rest: () => string } {
  let first = true;
  let rest = "";
  return {
    push: (chunk) => {
      const text = rest + chunk;
      const complete = text.lastIndexOf("\n\n") + 2;
      rest = text.slice(complete);
      for (let at = text.indexOf("id: "); at !== -1 && at < complete; at = text.indexOf("id: ", at + 4)) {
        onReading(Number(text.slice(at + 4, text.indexOf("\n", at))));
        if (first) {
          first = false;
          onFirst();
        }
      }
    },
    rest: () => rest,
  };
}
