import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildBytes, ChildHeap, ChildUsage } from "./shared.js";

/** Built next to the driver by bench/run.mjs. */
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/**
 * `BENCH_CPU_PROF_DIR=dir npm run bench …` writes a Node CPU profile of every
 * child into `dir`, sampled every `BENCH_CPU_PROF_INTERVAL_US` (default 1000) µs.
 */
const profDir = process.env["BENCH_CPU_PROF_DIR"];
const profInterval = process.env["BENCH_CPU_PROF_INTERVAL_US"] ?? "1000";
const execArgv = [
  "--enable-source-maps",
  ...(profDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${profInterval}`]),
];

/** A server running in its own Node process. */
export interface ServerChild {
  readonly info: Record<string, unknown>;
  usage(): Promise<ChildUsage>;
  bytes(): Promise<ChildBytes>;
  /** Full GCs, then the heap and RSS (the child runs with `--expose-gc`). */
  heap(): Promise<ChildHeap>;
  stop(): Promise<void>;
}

function readyMessage(child: ChildProcess, what: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} was not ready within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: unknown) => {
      if (typeof m === "object" && m !== null && (m as { type?: unknown }).type === "ready") {
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(m as Record<string, unknown>);
      }
    };
    child.on("message", onMessage);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${String(code)} before it was ready`));
    });
  });
}

/** Starts `server-child.mjs` with `args` and waits for it to listen. */
export async function startServerChild(args: readonly string[]): Promise<ServerChild> {
  const child = fork(here("server-child.mjs"), [...args], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: [...execArgv, "--expose-gc"],
  });
  const info = await readyMessage(child, `server child (${args.join(" ")})`, 60_000);
  let nextId = 1;
  const request = <T>(cmd: "usage" | "bytes" | "heap" | "exit"): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const onMessage = (m: unknown) => {
        if (typeof m === "object" && m !== null && (m as { id?: unknown }).id === id) {
          child.off("message", onMessage);
          resolve((m as { result: T }).result);
        }
      };
      child.on("message", onMessage);
      if (!child.send({ id, cmd })) reject(new Error("the server child is gone"));
    });
  };
  return {
    info,
    usage: () => request<ChildUsage>("usage"),
    bytes: () => request<ChildBytes>("bytes"),
    heap: () => request<ChildHeap>("heap"),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await request<null>("exit").catch(() => undefined);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A process of fan-out subscribers; see fanout-client.ts. */
export interface FanoutChild {
  readonly openMs: number;
  command<T>(cmd: "start" | "stop"): Promise<T | undefined>;
  stop(): Promise<void>;
}

/**
 * `sseSubscribers` of the `subscribers` go over SSE (one response each), the
 * rest over `connections` WebSockets: SDK clients, or raw tunnel streams (`raw`; `"raw-sse"`: the SSE
 * subscribers are raw responses too).
 */
export async function startFanoutChild(
  url: string,
  subscribers: number,
  connections: number,
  sseSubscribers = 0,
  raw: boolean | "raw-sse" | `raw-sse-h2:${number}` = false,
): Promise<FanoutChild> {
  const args = [url, String(subscribers), String(connections), String(sseSubscribers), typeof raw === "string" ? raw : raw ? "raw" : "sdk"];
  const child = fork(here("fanout-client.mjs"), args, {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv,
  });
  const ready = await readyMessage(child, `fan-out client (${subscribers} subscribers)`, 300_000);
  return {
    openMs: Number(ready["openMs"]),
    command<T>(cmd: "start" | "stop") {
      if (cmd === "start") {
        child.send({ cmd });
        return Promise.resolve(undefined);
      }
      return new Promise<T>((resolve) => {
        const onMessage = (m: unknown) => {
          if (typeof m === "object" && m !== null && (m as { type?: unknown }).type === "stats") {
            child.off("message", onMessage);
            resolve((m as { stats: T }).stats);
          }
        };
        child.on("message", onMessage);
        child.send({ cmd });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.send({ cmd: "exit" });
      await exited;
      clearTimeout(timer);
    },
  };
}
