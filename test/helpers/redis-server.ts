import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForOutput } from "./process-output.js";

/** Where redis-server is, or undefined when this machine has none. */
export function findRedisServer(): string | undefined {
  const candidates = [process.env["REDIS_SERVER"], "/usr/bin/redis-server", "/usr/local/bin/redis-server"];
  for (const path of candidates) {
    if (path === undefined || path === "") continue;
    try {
      execFileSync(path, ["--version"], { stdio: "ignore" });
      return path;
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}

/**
 * Why the Redis suites cannot run here, or undefined when they can. Without
 * redis-server they are skipped with this reason, except under CI, where its
 * absence is a failure (.ci/run installs it).
 */
export function redisUnavailableReason(): string | undefined {
  if (findRedisServer() !== undefined) return undefined;
  const reason = "redis-server not found: install it (Debian: apt-get install redis-server) or set REDIS_SERVER to run the Redis tests";
  if (process.env["CI"]) throw new Error(`${reason} (CI must run them)`);
  return reason;
}

/** A real redis-server on a free loopback port, in a temporary folder, persisting every write (AOF, fsync always). */
export interface RedisProcess {
  readonly url: string;
  readonly port: number;
  /** Kills it with SIGKILL (no shutdown save) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder (its AOF brings the data back). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisProcess> {
  const binary = findRedisServer();
  if (binary === undefined) throw new Error("redis-server not found");
  const dir = mkdtempSync(join(tmpdir(), "weather-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const launch = async () => {
    const proc = spawn(
      binary,
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    await waitForOutput(proc, "Ready to accept connections", "redis-server");
  };
  const killChild = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(signal);
    await exited;
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => killChild("SIGKILL"),
    restart: launch,
    async stop() {
      await killChild("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
