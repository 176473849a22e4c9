import * as http2 from "node:http2";
import * as net from "node:net";
import { startServerChild } from "../children.js";
import type { Row } from "../report.js";
import { fmt } from "../stats.js";
import { FANOUT_SECTION, FANOUT_TICK_MS, type FanoutResult } from "./fanout.js";

/** Bytes of the bare server's event: about a reading's SSE event (`id:` and base64 `data:`). */
const EVENT_BYTES = 100;
const STREAMS = 2000;
const H2_SESSIONS = 8;

export interface SseFloorResult {
  readonly kind: "h1" | "h2";
  readonly streams: number;
  /** Server CPU per write of one event to one stream, µs. */
  readonly cpuPerEventUs: number;
  readonly systemShare: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What Node alone costs per SSE event: a bare server (no SDK code) in its
 * own process writes one shared event to each of 2,000 streams every tick,
 * read here; server CPU over `windowMs` ÷ writes.
 */
export async function measureSseFloor(kind: "h1" | "h2", windowMs: number, log: (line: string) => void): Promise<SseFloorResult> {
  const server = await startServerChild(["sse-floor", kind, String(FANOUT_TICK_MS), String(EVENT_BYTES)]);
  const url = new URL(String(server.info["url"]));
  const closers: (() => void)[] = [];
  try {
    if (kind === "h1") {
      for (let i = 0; i < STREAMS; i++) {
        const socket = net.connect(Number(url.port), url.hostname);
        socket.on("data", () => undefined);
        socket.on("error", () => undefined);
        closers.push(() => socket.destroy());
      }
    } else {
      for (let s = 0; s < H2_SESSIONS; s++) {
        const session = http2.connect(url.origin);
        session.on("error", () => undefined);
        closers.push(() => session.destroy());
        for (let i = s; i < STREAMS; i += H2_SESSIONS) {
          const stream = session.request({ ":path": "/" });
          stream.on("data", () => undefined);
          stream.on("error", () => undefined);
        }
      }
    }
    await sleep(2000);
    const u0 = await server.usage();
    await sleep(windowMs);
    const u1 = await server.usage();
    const writes = (u1.writes ?? 0) - (u0.writes ?? 0);
    const cpuUs = u1.userUs - u0.userUs + u1.systemUs - u0.systemUs;
    if (writes < (STREAMS * windowMs) / FANOUT_TICK_MS / 2) throw new Error(`the bare ${kind} server wrote only ${writes} events`);
    log(`  SSE floor ${kind}: ${fmt(writes)} writes, ${fmt(cpuUs / writes, 2)} µs each`);
    return { kind, streams: STREAMS, cpuPerEventUs: cpuUs / writes, systemShare: (u1.systemUs - u0.systemUs) / cpuUs };
  } finally {
    for (const close of closers) close();
    await server.stop();
  }
}

/**
 * The floor rows, with what they imply for the 20,000 row with 2,000 on SSE:
 * (18,000 × the all-WebSocket row's CPU per message + 2,000 × the floor) ÷
 * 20,000 is the least that row could cost if the SDK added nothing per SSE event.
 */
export function sseFloorRows(floors: readonly SseFloorResult[], fanout: readonly FanoutResult[]): Row[] {
  const section = FANOUT_SECTION;
  const ws = fanout.find((r) => r.raw && r.subscribers === 20_000 && r.connections === 4 && r.sseSubscribers === 0);
  const perSse = (kind: "h1" | "h2") =>
    fanout.find((r) => r.raw && r.subscribers === 2000 && r.sseSubscribers === 2000 && r.sseHttp2Sessions > 0 === (kind === "h2"));
  return floors.flatMap((f) => {
    const http = f.kind === "h1" ? "HTTP/1.1 (socket.write, a connection each)" : `HTTP/2 (Http2Stream.write, ${H2_SESSIONS} sessions)`;
    const sdk = perSse(f.kind);
    const rows: Row[] = [
      {
        section,
        name: `Node's own floor per SSE event, ${http}: bare server, ${fmt(f.streams)} streams`,
        value: `${fmt(f.cpuPerEventUs, 2)} µs`,
        ratio: `${fmt(f.systemShare * 100)} % system${sdk === undefined ? "" : `; the reference server: ${fmt(sdk.serverCpuPerMessageUs, 2)} µs (SSE alone)`}`,
        target: "",
        status: "",
      },
    ];
    if (ws !== undefined) {
      const blended = (18_000 * ws.serverCpuPerMessageUs + 2000 * f.cpuPerEventUs) / 20_000;
      rows.push({
        section,
        name: "  least CPU per message of the 20,000 row with 2,000 on SSE, SSE at this floor",
        value: `${fmt(blended, 2)} µs`,
        ratio: `18,000 × ${fmt(ws.serverCpuPerMessageUs, 2)} µs (all-WebSocket row) + 2,000 × ${fmt(f.cpuPerEventUs, 2)} µs`,
        target: "",
        status: "",
      });
    }
    return rows;
  });
}
