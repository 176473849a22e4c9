/**
 * A server in its own process, so its CPU and memory can be measured alone:
 * `node server-child.mjs replay <count>`, `live <tickMs> <historyWindowMs>`, `redis …` or `sse-floor …` (see `start`).
 * Reports `{ type: "ready", … }` over IPC, then answers {@link ChildCommand}s.
 */
import { heapAfterGc } from "./memory/measure.js";
import type { ChildBytes, ChildCommand, ChildHeap, ChildUsage } from "./shared.js";
import { startLiveServers } from "./servers/live-servers.js";
import { startRedisServer } from "./servers/redis-server.js";
import { startReplayServer } from "./servers/replay-server.js";
import { startSseFloorServer } from "./servers/sse-floor-server.js";

interface Running {
  readonly info: Record<string, unknown>;
  bytes(): ChildBytes;
  /** Redis commands sent so far (Redis-backed servers only). */
  redisCommands?(): number;
  /** Writes so far (the bare SSE floor server only). */
  writes?(): number;
  close(): Promise<void>;
}

async function start(): Promise<Running> {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === "replay") {
    const server = await startReplayServer(Number(a));
    return { info: { url: server.url, payloadBytes: server.payloadBytes }, bytes: () => server.bytes(), close: () => server.close() };
  }
  if (mode === "live") {
    const servers = await startLiveServers(Number(a), Number(b));
    return {
      info: { url: servers.url, echoUrl: servers.echoUrl, proxyUrl: servers.proxyUrl },
      bytes: () => servers.bytes(),
      close: () => servers.close(),
    };
  }
  if (mode === "redis") {
    const server = await startRedisServer(Number(a), Number(b), String(process.argv[5]));
    return {
      info: { url: server.url },
      bytes: () => ({ down: 0, up: 0 }),
      redisCommands: () => server.redisCommands(),
      close: () => server.close(),
    };
  }
  if (mode === "sse-floor" && (a === "h1" || a === "h2")) {
    const server = await startSseFloorServer(a, Number(b), Number(process.argv[5]));
    return { info: { url: server.url }, bytes: () => ({ down: 0, up: 0 }), writes: () => server.writes(), close: () => server.close() };
  }
  throw new Error(
    `usage: server-child replay <count> | live <tickMs> <historyWindowMs> | redis <tickMs> <historyWindowMs> <url> | sse-floor h1|h2 <tickMs> <eventBytes>; got ${String(mode)}`,
  );
}

function usage(): ChildUsage {
  const cpu = process.cpuUsage();
  const rssBytes = process.memoryUsage().rss;
  return {
    userUs: cpu.user,
    systemUs: cpu.system,
    rssBytes,
    atMs: performance.timeOrigin + performance.now(),
    redisCommands: running.redisCommands?.(),
    writes: running.writes?.(),
  };
}

const send = (message: unknown) => process.send?.(message);
const running = await start();
process.on("message", (message: ChildCommand) => {
  switch (message.cmd) {
    case "usage":
      send({ id: message.id, result: usage() });
      return;
    case "bytes":
      send({ id: message.id, result: running.bytes() });
      return;
    case "heap": {
      const result: ChildHeap = { heapBytes: heapAfterGc(), rssBytes: process.memoryUsage().rss };
      send({ id: message.id, result });
      return;
    }
    case "exit":
      void running.close().finally(() => {
        send({ id: message.id, result: null });
        process.exit(0);
      });
      return;
  }
});
// The driver going away (even killed) ends this process too.
process.on("disconnect", () => process.exit(0));
send({ type: "ready", ...running.info });
