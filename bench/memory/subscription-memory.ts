/**
 * Server memory per subscription, in process: the reference router, the
 * tunnel handler and the SSE route, fed by stand-in clients that keep nothing
 * per subscription (a tunnel "socket" that counts the bytes it is sent, an
 * SSE output that counts the text), so every byte the heap grows by is the
 * server's. Used by the memory bench section and by the regression test
 * (test/server/subscription-memory.test.ts).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { decodeFrameBatch, encodeFrameBatch, envelope, forEachEnvelope, type Frame, type FrameSink } from "../../src/codec/tunnel/index.js";
import { GetWeatherRequestSchema } from "../../src/gen/weather_pb.js";
import { createTunnelHandler, createWeatherRouter, type TunnelSocket } from "../../src/server/core.js";
import { createSseRouteCore } from "../../src/server/sse/sse-route.js";
import type { SseExchange, SseOutput } from "../../src/server/sse/exchange.js";
import { weatherSseRouteOptions } from "../../src/server/weather/weather-sse-route.js";
import { type Clock, systemClock } from "../../src/clock.js";
import { CITIES } from "../../src/simulation/index.js";

/** A set of live subscriptions that can be closed. */
export interface Subscriptions {
  /** Messages the stand-in clients received so far. */
  delivered(): number;
  close(): void;
}

/** What every subscription of a run shares: the router and the handlers around it. */
export interface MemoryServer {
  /** Opens `count` tunnel subscriptions over `connections` stand-in sockets; resolves once each had its first reading. */
  openTunnel(count: number, connections: number): Promise<Subscriptions>;
  /** Opens `count` SSE subscriptions (each one response); resolves once each had its first reading. */
  openSse(count: number): Promise<Subscriptions>;
  /** Lets one tick pass: waits `tickMs` on the system clock, or advances a manual one and lets the sends go out. */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/** A clock the caller moves (tests): ticks then come without waiting. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

const codes = [...CITIES.keys()];
const SUBSCRIBE_PATH = "/weather.WeatherService/SubscribeWeather";

/** Lets this turn's I/O callbacks run (the tunnel and SSE send after the turn). */
const afterIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Starts the router (a ticker of `tickMs` on `clock`, default the system
 * clock) with the tunnel handler and the SSE route over it.
 */
export function startMemoryServer(tickMs: number, clock?: ManualClock): MemoryServer {
  const shutdown = new AbortController();
  const time: Clock = clock ?? systemClock;
  const router = createWeatherRouter({ tickMs, historyWindowMs: 60_000, shutdownSignal: shutdown.signal, clock: time });
  const tunnel = createTunnelHandler({ handlers: router.handlers, direct: [router.direct], maxStreams: 1_000_000, clock: time });
  const sse = createSseRouteCore(weatherSseRouteOptions(router.handlers, { direct: [router.direct], keepaliveMs: 15_000, clock: time }));

  return {
    async openTunnel(count, connections) {
      let delivered = 0;
      let resolveOpened: () => void = () => undefined;
      const opened = new Promise<void>((resolve) => (resolveOpened = resolve));
      const sockets: CountingSocket[] = [];
      for (let c = 0; c < connections; c++) {
        // Every stream answers its newest reading at once: `count` readings mean every one is open (near enough).
        const socket = new CountingSocket(() => {
          if (++delivered === count) resolveOpened();
        });
        tunnel.handle(socket, { headers: new Headers({ host: "memory.test" }) });
        sockets.push(socket);
      }
      // One open + data + half_close per stream, a few hundred streams to a message.
      const perSocket = Math.ceil(count / connections);
      for (let c = 0; c < connections; c++) {
        const socket = sockets[c] as CountingSocket;
        socket.receive(encodeFrameBatch([{ kind: "hello", streamId: 0, headers: [] }]));
        const frames: Frame[] = [];
        for (let i = 0; i < perSocket && c * perSocket + i < count; i++) {
          const streamId = i * 2 + 1;
          const cityCode = codes[(c * perSocket + i) % codes.length] ?? "NYC";
          frames.push(
            { kind: "open", streamId, path: SUBSCRIBE_PATH, headers: [], initialWindow: 1 << 30 },
            {
              kind: "data",
              streamId,
              chunks: [envelope(toBinary(GetWeatherRequestSchema, create(GetWeatherRequestSchema, { cityCode })))],
            },
            { kind: "halfClose", streamId },
          );
          if (frames.length >= 600) socket.receive(encodeFrameBatch(frames.splice(0)));
        }
        if (frames.length > 0) socket.receive(encodeFrameBatch(frames));
      }
      await opened;
      return {
        delivered: () => delivered,
        close() {
          for (const socket of sockets) socket.closeFromClient();
        },
      };
    },

    async openSse(count) {
      let delivered = 0;
      let firsts = 0;
      const outputs: CountingOutput[] = [];
      const opened = new Promise<void>((resolve) => {
        for (let i = 0; i < count; i++) {
          const output = new CountingOutput(() => {
            delivered++;
          });
          output.onFirst = () => {
            if (++firsts === count) resolve();
          };
          outputs.push(output);
          const cityCode = codes[i % codes.length] ?? "NYC";
          sse(sseGet(cityCode), output);
        }
      });
      await opened;
      return {
        delivered: () => delivered,
        close() {
          for (const output of outputs) output.closeFromClient();
        },
      };
    },

    async tick() {
      if (clock === undefined) {
        await new Promise((resolve) => setTimeout(resolve, tickMs));
        return;
      }
      clock.advance(tickMs);
      await afterIo();
      await afterIo();
    },

    async close() {
      shutdown.abort();
      await tunnel.close();
      await router.source.close();
    },
  };
}

function sseGet(cityCode: string): SseExchange {
  const message = encodeURIComponent(JSON.stringify({ cityCode }));
  const url = new URL(`http://memory.test/sse${SUBSCRIBE_PATH}?encoding=json&message=${message}`);
  return {
    method: "GET",
    pathname: url.pathname,
    url,
    header: () => new Headers({ host: "memory.test" }),
    readBody: () => Promise.resolve(new Uint8Array(0)),
  };
}

/** A tunnel socket whose client decodes what it is sent and counts the envelopes (readings) of `data` frames. */
class CountingSocket implements TunnelSocket, FrameSink {
  readyState = 1;
  readonly bufferedAmount = 0;
  onmessage: ((event: { data: Uint8Array }) => void) | null = null;
  onclose: (() => void) | null = null;

  constructor(private readonly onData: () => void) {}

  receive(data: Uint8Array): void {
    this.onmessage?.({ data });
  }

  send(data: Uint8Array): void {
    decodeFrameBatch(data, this);
  }

  data(_streamId: number, buf: Uint8Array, start: number, end: number): void {
    forEachEnvelope(buf, start, end, this.onData);
  }

  control(): void {}

  close(): void {
    this.closeFromClient();
  }

  closeFromClient(): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.onclose?.();
  }
}

/** An SSE response whose client counts message events. */
class CountingOutput implements SseOutput {
  canRespond = true;
  onFirst: () => void = () => undefined;
  private first = true;
  private onClose: () => void = () => undefined;

  constructor(private readonly onMessage: () => void) {}

  writeHead(): void {
    this.canRespond = false;
  }

  write(text: string): boolean {
    if (text.includes("data:")) {
      this.onMessage();
      if (this.first) {
        this.first = false;
        this.onFirst();
      }
    }
    return true;
  }

  end(): void {
    this.onClose();
  }

  listen(_onDrain: () => void, onClose: () => void): void {
    this.onClose = onClose;
  }

  closeFromClient(): void {
    this.onClose();
  }
}
