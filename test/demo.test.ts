// `npm run demo` as a person meets it: scripts/demo.mjs starts the reference
// server and the demo page on another origin; Chromium clicks through every
// call mode. Needs dist/ (`npm test` builds it first).
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

let demo: ChildProcessWithoutNullStreams;
let exited: Promise<number | null>;
let output = "";
let pageUrl: string;
let serverUrl: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  demo = spawn(process.execPath, [fileURLToPath(new URL("../scripts/demo.mjs", import.meta.url))], {
    cwd: root,
    env: { ...process.env, PORT: "0", DEMO_PORT: "0" },
  });
  exited = new Promise((resolve) => demo.once("exit", resolve));
  [pageUrl, serverUrl] = await new Promise<[string, string]>((resolve, reject) => {
    demo.stdout.setEncoding("utf8");
    demo.stderr.setEncoding("utf8");
    const onOutput = (chunk: string) => {
      output += chunk;
      const pageMatch = /demo page:\s+(http:\/\/\S+)/.exec(output);
      const serverMatch = /reference server:\s+(http:\/\/\S+)/.exec(output);
      if (pageMatch?.[1] !== undefined && serverMatch?.[1] !== undefined) resolve([pageMatch[1], serverMatch[1]]);
    };
    demo.stdout.on("data", onOutput);
    demo.stderr.on("data", onOutput);
    void exited.then((code) => reject(new Error(`the demo exited with ${code} before it was ready:\n${output}`)));
  });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu", "--disable-quic"] });
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));
}, 60_000);

afterAll(async () => {
  await browser.close();
  demo.kill("SIGKILL");
});

/** Waits until `selector`'s text matches `pattern`; returns the text. */
async function textOf(selector: string, pattern: RegExp): Promise<string> {
  const handle = await page.waitForFunction(
    ([s, source]) => {
      const text = document.querySelector(s)?.textContent ?? "";
      return new RegExp(source).test(text) ? text : false;
    },
    [selector, pattern.source] as const,
    { timeout: 15_000 },
  );
  return String(await handle.jsonValue());
}

describe("npm run demo", () => {
  it("serves the page on its own origin, pointed at the server", async () => {
    expect(new URL(pageUrl).origin).not.toBe(new URL(serverUrl).origin);
    await page.goto(pageUrl);
    expect(await page.textContent("#server")).toBe(serverUrl);
  });

  it("does every call mode from the page over the WebSocket", async () => {
    await page.click("#get");
    expect(await textOf("#get-out", /over websocket/)).toMatch(/°C, \d+ % humidity/);

    await page.click("#subscribe");
    await textOf("#state", /^open over websocket$/);
    await page.waitForFunction(() => document.querySelectorAll("#readings tr").length >= 2, undefined, { timeout: 15_000 });

    await page.click("#report");
    expect(await textOf("#report-out", /readings: mean/)).toMatch(/^\d+ readings: mean -?\d+\.\d\d °C/);

    await page.click("#chat-ask");
    await page.waitForFunction(() => document.querySelectorAll("#chat-out li").length >= 2, undefined, { timeout: 15_000 });
    await page.click("#chat-close");
    await textOf("#chat-out", /the server ended the chat/);
    await page.click("#unsubscribe");
    await textOf("#state", /^closed$/);
  });

  it("moves to Connect when the WebSocket is unticked, and says client streaming needs the WebSocket", async () => {
    await page.uncheck("#transports input >> nth=0");
    await page.click("#get");
    await textOf("#get-out", /over connect/);
    await page.click("#subscribe");
    await textOf("#state", /^open over connect$/);
    await page.click("#report");
    expect(await textOf("#report-out", /^Unimplemented: /)).toMatch(/websocket/);
    await page.click("#chat-ask");
    expect(await textOf("#chat-out", /^Unimplemented: /)).toMatch(/bidi/);
    expect(pageErrors).toEqual([]);
    // Ticking the WebSocket again clears what the previous transports said.
    await page.check("#transports input >> nth=0");
    expect(await page.textContent("#report-out")).toBe("");
    expect(await page.textContent("#chat-out")).toBe("");
  });

  it("stops on SIGTERM and exits 0", async () => {
    demo.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
