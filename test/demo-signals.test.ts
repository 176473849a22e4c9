// `npm run demo` stops clean: SIGTERM or SIGINT to the PID the command started, or Ctrl-C
// (SIGINT to the whole process group), ends npm, scripts/demo.mjs and the reference server
// it started, and frees every port. The wait is for the output pipes to close, which
// happens once every process of the tree holding them is exiting.
import { describe, expect, it } from "vitest";
import { alive, listening, startDemo } from "./helpers/demo-process.js";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

async function stopsClean(signal: NodeJS.Signals, toGroup: boolean): Promise<string> {
  const started = performance.now();
  const demo = await startDemo({}, [npm, "run", "demo"], toGroup);
  const startupMs = performance.now() - started;
  const ports = [new URL(demo.pageUrl).port, new URL(demo.serverUrl).port, String(demo.upstreamPort)].map(Number);
  for (const port of ports) expect(await listening(port)).toBe(true);
  const closed = new Promise((resolve) => demo.process.once("close", resolve));
  const npmPid = demo.process.pid ?? 0;
  process.kill(toGroup ? -npmPid : npmPid, signal);
  await closed;
  // A process closes its files a moment before the kernel marks it exited: poll that last step.
  for (const pid of [npmPid, demo.demoPid, demo.serverPid])
    await expect.poll(() => alive(pid), { timeout: 5000, interval: 10, message: `process ${pid} still runs` }).toBe(false);
  for (const port of ports) expect(await listening(port), `port ${port} still taken`).toBe(false);
  console.log(`npm run demo: banner after ${startupMs.toFixed(0)} ms; stopped by ${signal}${toGroup ? " to the group" : ""}`);
  return demo.output();
}

describe("npm run demo stops clean", () => {
  it("on SIGTERM to npm's PID", async () => {
    await stopsClean("SIGTERM", false);
  }, 60_000);

  it("on SIGINT to npm's PID, and does not build again when dist/ is fresh", async () => {
    const output = await stopsClean("SIGINT", false);
    expect(output).toContain("dist/ is up to date");
  }, 60_000);

  it("on Ctrl-C (SIGINT to the whole process group)", async () => {
    await stopsClean("SIGINT", true);
  }, 60_000);

  it("when npm itself is killed (SIGKILL): the demo sees its parent gone and stops", async () => {
    await stopsClean("SIGKILL", false);
  }, 60_000);
});
