// `npm run demo -- --mocked` in real Chromium: no server at all; the page mocks
// it with weather-sdk/testing on msw. The page's own proof (0 lost, 0
// duplicated) must hold across a drop and a blocked WebSocket, as it does
// against the real server (test/demo.test.ts). Every wait is for the page.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright";
import { launchChromium } from "./helpers/chromium.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const WAIT = { timeout: 20_000 };

let demo: ChildProcessWithoutNullStreams;
let exited: Promise<unknown>;
let pageUrl = "";
let browser: Browser;
let page: Page;
let output = "";
const pageErrors: string[] = [];

beforeAll(async () => {
  const script = fileURLToPath(new URL("../scripts/demo.mjs", import.meta.url));
  demo = spawn(process.execPath, [script, "--mocked"], { env: { ...process.env, PORT: "0", DEMO_PORT: "0" } });
  exited = new Promise((resolve) => demo.once("exit", resolve));
  pageUrl = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const found = /demo page:\s+(http:\/\/\S+)/.exec(output);
      if (found?.[1] !== undefined && output.includes("processes:")) resolve(found[1]);
    };
    demo.stdout.on("data", onData);
    demo.stderr.on("data", onData);
    void exited.then(() => reject(new Error(`the demo exited before it was ready:\n${output}`)));
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
}, 60_000);

afterAll(async () => {
  await browser.close();
  demo.kill("SIGTERM");
  await exited;
});

/** Waits until the page's row for NYC has `received` past `from` (and `also` holds), then returns the row. */
async function nyc(from: number, also: { reconnectsAbove?: number; transport?: string } = {}) {
  await page.waitForFunction(
    ([from, reconnectsAbove, transport]) => {
      const d = document.querySelector<HTMLElement>('#proof tbody tr[data-city="NYC"]')?.dataset;
      return (
        d !== undefined &&
        Number(d["received"]) > from &&
        Number(d["reconnects"]) > reconnectsAbove &&
        (transport === "" || d["transport"] === transport)
      );
    },
    [from, also.reconnectsAbove ?? -1, also.transport ?? ""] as const,
    WAIT,
  );
  const row = await page.$eval('#proof tbody tr[data-city="NYC"]', (tr) => Object.fromEntries(Object.entries((tr as HTMLElement).dataset)));
  expect({ lost: row["lost"], duplicates: row["duplicates"] }).toEqual({ lost: "0", duplicates: "0" });
  return { received: Number(row["received"]), reconnects: Number(row["reconnects"]) };
}

describe("npm run demo -- --mocked in Chromium", () => {
  it("starts no server and serves the page live from the mocks", async () => {
    expect(output).toMatch(/reference server:\s+none/);
    await page.goto(pageUrl);
    await page.waitForFunction(() => /^Live · websocket$/.test(document.querySelector("#badge")?.textContent ?? ""), undefined, WAIT);
    expect(await page.textContent("#server")).toMatch(/mocked/);
    await nyc(2);
  });

  it("drop the connection from the page: a reconnect, 0 lost, 0 duplicated", async () => {
    const before = await nyc(0);
    await page.click("#drop");
    await nyc(before.received + 3, { reconnectsAbove: before.reconnects, transport: "websocket" });
  });

  it("block the WebSocket from the page: the subscription falls back and loses nothing", async () => {
    const before = await nyc(0);
    await page.click("#block-ws");
    await page.waitForFunction(() => /^Live · connect$/.test(document.querySelector("#badge")?.textContent ?? ""), undefined, WAIT);
    await nyc(before.received + 3, { transport: "connect" });
    await page.click("#block-ws");
    expect(pageErrors).toEqual([]);
  });
});
