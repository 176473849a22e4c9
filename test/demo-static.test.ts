// `npm run build:demo`'s static page against `npm run server`'s reference server on another
// origin, chosen with ?server=: live subscription and a unary call work, and the network
// controls (which only `npm run demo` serves) are off. Needs dist/ (`npm test` builds it first).
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import type { Browser } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./helpers/chromium.js";
import { root } from "./helpers/demo-process.js";

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

let outDir: string;
let server: ChildProcessWithoutNullStreams;
let serverExited: Promise<unknown>;
let serverUrl: string;
let files: Server;
let pageUrl: string;
let browser: Browser;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "weather-demo-"));
  // What `npm run build:demo` runs, into a folder of its own.
  const built = spawnSync(
    process.execPath,
    [join(root, "node_modules/vite/bin/vite.js"), "build", "demo", "--base", "./", "--outDir", outDir, "--emptyOutDir"],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  expect(built.status, built.stderr).toBe(0);

  server = spawn(process.execPath, [join(root, "dist/server/cli.js")], { cwd: root, env: { ...process.env, PORT: "0" } });
  serverExited = new Promise((resolve) => server.once("exit", resolve));
  serverUrl = await new Promise<string>((resolve, reject) => {
    let text = "";
    server.stdout.setEncoding("utf8");
    server.stdout.on("data", (chunk: string) => {
      text += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void serverExited.then(() => reject(new Error(`the server exited: ${text}`)));
  });

  files = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    try {
      const body = readFileSync(join(outDir, path.endsWith("/") ? `${path}index.html` : path));
      res.writeHead(200, { "content-type": TYPES[extname(path) || ".html"] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
  pageUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser.close();
  files.closeAllConnections();
  await new Promise((resolve) => files.close(resolve));
  server.kill("SIGTERM");
  await serverExited;
  rmSync(outDir, { recursive: true, force: true });
});

describe("npm run build:demo against npm run server", () => {
  it("subscribes and calls from another origin, with the network controls off", async () => {
    expect(new URL(pageUrl).origin).not.toBe(new URL(serverUrl).origin);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${pageUrl}?server=${encodeURIComponent(serverUrl)}&cities=NYC,LON`);
    await page.waitForSelector("html[data-ready]", { state: "attached", timeout: 20_000 });
    expect(await page.textContent("#server")).toBe(serverUrl);
    await page.waitForFunction(() => document.querySelector("#badge")?.textContent === "Live · websocket", undefined, { timeout: 20_000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll<HTMLElement>("#proof tbody tr")].filter((r) => Number(r.dataset["received"]) > 1).length === 2,
      undefined,
      { timeout: 20_000 },
    );
    await page.click("#get");
    await page.waitForFunction(() => /over websocket/.test(document.querySelector("#get-out")?.textContent ?? ""), undefined, {
      timeout: 20_000,
    });
    expect(await page.isDisabled("#drop")).toBe(true);
    expect(await page.textContent("#faults-note")).toMatch(/need `npm run demo`/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
