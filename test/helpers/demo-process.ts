// Starts `npm run demo`'s script (or npm itself) on free ports and reads its banner.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));

export interface RunningDemo {
  readonly process: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  readonly pageUrl: string;
  readonly serverUrl: string;
  /** PIDs of scripts/demo.mjs and of the reference server it started. */
  readonly demoPid: number;
  readonly serverPid: number;
  /** The internal port of the reference server (the proxy's upstream). */
  readonly upstreamPort: number;
  output(): string;
}

/** Runs `command` (default: node scripts/demo.mjs) and resolves once the demo printed where it is. */
export async function startDemo(env: Record<string, string> = {}, command?: readonly string[], detached = false): Promise<RunningDemo> {
  const [file, ...args] = command ?? [process.execPath, fileURLToPath(new URL("../../scripts/demo.mjs", import.meta.url))];
  if (file === undefined) throw new Error("no command");
  const child = spawn(file, args, { cwd: root, env: { ...process.env, PORT: "0", DEMO_PORT: "0", ...env }, detached });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const banner = await new Promise<RegExpExecArray[]>((resolve, reject) => {
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    const onOutput = (chunk: string) => {
      output += chunk;
      const found = [
        /demo page:\s+(http:\/\/\S+)/,
        /reference server:\s+(http:\/\/\S+)/,
        /processes:\s+demo (\d+), reference server (\d+) on port (\d+)/,
      ].map((pattern) => pattern.exec(output));
      const matches = found.filter((m) => m !== null);
      if (matches.length === found.length) resolve(matches);
    };
    child.stdout.on("data", onOutput);
    child.stderr.on("data", onOutput);
    void exited.then((code) => reject(new Error(`the demo exited with ${code} before it was ready:\n${output}`)));
  });
  const [page, server, pids] = banner;
  return {
    process: child,
    exited,
    pageUrl: page?.[1] ?? "",
    serverUrl: server?.[1] ?? "",
    demoPid: Number(pids?.[1]),
    serverPid: Number(pids?.[2]),
    upstreamPort: Number(pids?.[3]),
    output: () => output,
  };
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * True while a process with this PID runs. An exited process whose parent is
 * gone can stay a zombie until PID 1 reaps it (some containers' PID 1 never
 * does); it holds no ports and counts as gone.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) STATE …"; Z is a zombie.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true; // no /proc (macOS): kill(0) is all there is
  }
}
