// `npm run server` as a user runs it, stopped as a process manager or a terminal stops it:
// one signal to the PID that `npm run server` started must stop every process under it and
// free the port. Needs a built dist/ (`npm test` builds first); the script rebuilds a stale one.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

/** Every process under `pid` (children, grandchildren, …), from `ps`. */
async function descendantsOf(pid: number): Promise<number[]> {
  const { stdout } = await run("ps", ["-A", "-o", "pid=,ppid="]);
  const pairs = stdout
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const visit = (parent: number): void => {
    for (const [child, ppid] of pairs) {
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves once no process of `pids` is left; polls, as there is no exit event for a process one did not start. */
async function allExited(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) throw new Error(`still running after ${timeoutMs} ms: ${pids.filter(isAlive).join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const refusesConnections = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });

describe.skipIf(process.platform === "win32")("npm run server", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "stops every process and frees the port on %s to its PID",
    { timeout: 60_000 },
    async (signal) => {
      const npmCli = process.env["npm_execpath"];
      const [command, args] = npmCli?.endsWith(".js") ? [process.execPath, [npmCli, "run", "server"]] : ["npm", ["run", "server"]];
      const npm = spawn(command, args, { cwd: root, env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
      const pid = npm.pid;
      if (pid === undefined) throw new Error("npm did not start");
      const exited = once(npm, "exit");
      let under: number[] = [];
      try {
        let stdout = "";
        npm.stdout.setEncoding("utf8");
        const url = await new Promise<URL>((resolve, reject) => {
          npm.stdout.on("data", (chunk: string) => {
            stdout += chunk;
            const match = /listening on (http:\/\/\S+)/.exec(stdout);
            if (match?.[1] !== undefined) resolve(new URL(match[1]));
          });
          void exited.then(() => reject(new Error(`npm run server exited before listening: ${stdout}`)));
        });
        const health = await fetch(new URL("/healthz", url));
        expect(health.ok).toBe(true);
        under = await descendantsOf(pid);
        expect(under.length).toBeGreaterThan(0);

        process.kill(pid, signal);
        await exited;
        await allExited(under, 10_000);
        expect(await refusesConnections(Number(url.port))).toBe(true);
      } finally {
        for (const p of [pid, ...under]) if (isAlive(p)) process.kill(p, "SIGKILL");
      }
    },
  );
});
