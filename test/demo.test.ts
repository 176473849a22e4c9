// `npm run demo` as a person meets it, in real Chromium: scripts/demo.mjs starts the
// reference server (its own process), the fault proxy and the page on another origin;
// the test adds cities, runs every call mode, breaks the network from the page and
// checks the page's own counters: every tick once, none twice. Needs dist/ (`npm test`
// builds it first). Every wait is for something on the page, never a fixed time.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./helpers/chromium.js";
import { type RunningDemo, root, startDemo } from "./helpers/demo-process.js";

const outputDir = join(root, ".vitest-attachments", "demo");
const TICK_MS = 20;
const WAIT = { timeout: 20_000 };

let demo: RunningDemo;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  demo = await startDemo({ TICK_MS: String(TICK_MS), HISTORY_MS: "20000" });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    // The browser logs each connection the test breaks on purpose; anything else is a defect.
    if (m.type() === "error" && !/^(Failed to load resource|WebSocket connection to )/.test(m.text())) pageErrors.push(m.text());
  });
  mkdirSync(outputDir, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser.close();
  demo.process.kill("SIGTERM");
  await demo.exited;
});

interface Row {
  city: string;
  received: number;
  lost: number;
  duplicates: number;
  reconnects: number;
  replayed: number;
  transport: string;
}

function rows(): Promise<Row[]> {
  return page.$$eval("#proof tbody tr", (trs) =>
    trs.map((tr) => {
      const d = (tr as HTMLElement).dataset;
      return {
        city: d["city"] ?? "",
        received: Number(d["received"]),
        lost: Number(d["lost"]),
        duplicates: Number(d["duplicates"]),
        reconnects: Number(d["reconnects"]),
        replayed: Number(d["replayed"]),
        transport: d["transport"] ?? "",
      };
    }),
  );
}

/**
 * Waits until every city's row has moved on by `more` readings from `from`
 * (and satisfies `also`), then checks the proof: 0 lost, 0 duplicated.
 */
async function everyCity(from: Row[], more: number, also: { transport?: string; reconnectsAbove?: boolean } = {}): Promise<Row[]> {
  await page.waitForFunction(
    ([before, more, transport, reconnectsAbove]) =>
      [...document.querySelectorAll<HTMLElement>("#proof tbody tr")].every((tr) => {
        const was = before.find((b) => b.city === tr.dataset["city"]);
        if (was === undefined) return false;
        if (Number(tr.dataset["received"]) < was.received + more) return false;
        if (transport !== "" && tr.dataset["transport"] !== transport) return false;
        return !reconnectsAbove || Number(tr.dataset["reconnects"]) > was.reconnects;
      }),
    [from, more, also.transport ?? "", also.reconnectsAbove === true] as const,
    WAIT,
  );
  const now = await rows();
  for (const row of now)
    expect({ city: row.city, lost: row.lost, duplicates: row.duplicates }).toEqual({ city: row.city, lost: 0, duplicates: 0 });
  return now;
}

async function textOf(selector: string, pattern: RegExp): Promise<string> {
  const handle = await page.waitForFunction(
    ([s, source]) => {
      const text = document.querySelector(s)?.textContent ?? "";
      return new RegExp(source).test(text) ? text : false;
    },
    [selector, pattern.source] as const,
    WAIT,
  );
  return String(await handle.jsonValue());
}

describe("npm run demo in Chromium", () => {
  it("serves the page on its own origin, pointed at the server through the demo's proxy, live at once", async () => {
    expect(new URL(demo.pageUrl).origin).not.toBe(new URL(demo.serverUrl).origin);
    await page.goto(demo.pageUrl);
    await page.waitForSelector("html[data-ready]", { state: "attached", ...WAIT });
    expect(await page.textContent("#server")).toBe(demo.serverUrl);
    await textOf("#badge", /^Live · websocket$/);
    await textOf("#fault-status", /server up/);
  });

  it("adds three cities: each replays its history in a burst, the chart keeps up, all over one WebSocket", async () => {
    await page.evaluate(() => window.__demoPerf.reset());
    for (const code of ["LON", "TYO", "SYD"]) {
      await page.selectOption("#city", code);
      await page.click("#add");
    }
    const start = (await rows()).map((r) => ({ ...r, received: 0 }));
    expect(start.map((r) => r.city)).toEqual(["NYC", "LON", "TYO", "SYD"]);
    // Each new city starts 18 s back (90 % of the 20 s history): 900 readings at once, then live ticks.
    const after = await everyCity(start, 900);
    for (const row of after.slice(1)) expect(row.replayed).toBeGreaterThan(800);
    await textOf("#carriage", /^4 live subscriptions: 4 over 1 WebSocket\.$/);
    await textOf("#connections", /^1$/);
    const perf = await page.evaluate(() => window.__demoPerf);
    console.log(`replay burst of ~3,000 readings + live ticks: ${JSON.stringify(perf)}`);
    // No long stall of the page's main thread while the burst was drawn (a frame is 16.7 ms).
    expect(Math.max(0, ...perf.longTasks)).toBeLessThan(250);
    expect(perf.maxDrawMs).toBeLessThan(50);
  });

  it("runs every call mode; chat answers are labelled by the city asked", async () => {
    await page.click("#get");
    expect(await textOf("#get-out", /over websocket/)).toMatch(/°C, \d+ % humidity/);
    await page.click("#report");
    expect(await textOf("#report-out", /readings: mean/)).toMatch(/^\d+ readings: mean -?\d+\.\d\d °C/);
    await page.selectOption("#city", "LON");
    await page.click("#chat-ask");
    await page.selectOption("#city", "TYO");
    await page.click("#chat-ask");
    await textOf("#chat-out", /TYO · /);
    await textOf("#chat-out", /LON · /);
    expect(await page.textContent("#chat-out")).not.toContain("? · ");
    await page.click("#chat-close");
    await textOf("#chat-out", /the server ended the chat/);
  });

  it("drop the connection: every city reconnects and resumes, 0 lost, 0 duplicated", async () => {
    const before = await rows();
    await page.click("#drop");
    await everyCity(before, 20, { reconnectsAbove: true, transport: "websocket" });
    await textOf("#timeline", /dropped every connection/);
    await textOf("#badge", /^Live · websocket$/);
  });

  it("block the WebSocket: the subscriptions fall back to Connect and lose nothing", async () => {
    const before = await rows();
    await page.click("#block-ws");
    expect(await page.getAttribute("#block-ws", "aria-pressed")).toBe("true");
    await everyCity(before, 20, { transport: "connect" });
    await textOf("#badge", /^Live · connect$/);
    await textOf("#carriage", /4 over 4 HTTP streams/);
    await page.click("#block-ws");
    expect(await page.getAttribute("#block-ws", "aria-pressed")).toBe("false");
  });

  it("switch transport live: each subscription moves with a resume and the counters prove no loss", async () => {
    let before = await rows();
    await page.selectOption("#transport", "sse");
    before = await everyCity(before, 20, { transport: "sse", reconnectsAbove: true });
    await textOf("#timeline", /switched to sse: 4 subscriptions resumed/);
    await page.selectOption("#transport", "websocket");
    await everyCity(before, 20, { transport: "websocket", reconnectsAbove: true });
    await textOf("#carriage", /4 over 1 WebSocket/);
  });

  it("server down for 2 s: reconnecting with a countdown and 'retry now', then resumed with nothing lost", async () => {
    const before = await rows();
    await page.fill("#down-seconds", "2");
    await page.click("#down");
    await textOf("#badge", /^Reconnecting · /);
    expect(await page.isVisible("#retry")).toBe(true);
    await textOf("#countdown", /^(next try in \d+\.\d s|trying again now)$/);
    await page.waitForSelector('#fault-status[data-server-up="true"]', WAIT);
    if (await page.isVisible("#retry")) await page.click("#retry");
    await everyCity(before, 20, { reconnectsAbove: true });
    await textOf("#badge", /^Live · /);
  });

  it("the reference server killed from outside: the demo says so and starts it again, and the page resumes with nothing lost", async () => {
    const before = await rows();
    const restarts = [...demo.output().matchAll(/reference server started again: pid (\d+)/g)];
    process.kill(Number(restarts.at(-1)?.[1] ?? demo.serverPid), "SIGKILL");
    await textOf("#badge", /^Reconnecting · /);
    await expect.poll(() => demo.output().match(/reference server started again: pid \d+/g)?.length ?? 0, WAIT).toBe(restarts.length + 1);
    expect(demo.output()).toMatch(/the reference server exited \(SIGKILL\); starting it again in 1 s/);
    if (await page.isVisible("#retry")) await page.click("#retry");
    await everyCity(before, 20, { reconnectsAbove: true });
    await textOf("#badge", /^Live · /);
  });

  it("a unary call with the server unreachable says what each transport did", async () => {
    const dead = await browser.newPage();
    // Port 9 (discard) is closed here: every transport fails to open. No cities, so the call alone tries them.
    await dead.goto(`${demo.pageUrl}?cities=&server=${encodeURIComponent("http://127.0.0.1:9")}`);
    await dead.waitForSelector("html[data-ready]", { state: "attached", ...WAIT });
    await dead.click("#get");
    const text = await dead.waitForFunction(
      () => {
        const t = document.querySelector("#get-out")?.textContent ?? "";
        return t.startsWith("Unavailable") ? t : false;
      },
      undefined,
      WAIT,
    );
    expect(String(await text.jsonValue())).toMatch(
      /^Unavailable: no transport could open \(tried websocket, connect, sse\): websocket: .+; connect: .+; sse: .+/,
    );
    await dead.close();
  });

  it("at 390 px: no horizontal scrolling, and every control has an accessible name", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    const session = await page.context().newCDPSession(page);
    const { nodes } = (await session.send("Accessibility.getFullAXTree")) as {
      nodes: Array<{ ignored: boolean; role?: { value: string }; name?: { value: string } }>;
    };
    const controls = nodes.filter(
      (n) => !n.ignored && ["button", "combobox", "spinbutton", "textbox", "checkbox"].includes(n.role?.value ?? ""),
    );
    expect(controls.length).toBeGreaterThan(10);
    expect(controls.filter((n) => (n.name?.value ?? "").trim() === "").map((n) => n.role?.value)).toEqual([]);
    expect(await page.getAttribute("#badge", "aria-live")).toBe("polite");
  });

  it("saves screenshots at 1280 and 390 px that are not blank", async () => {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      const path = join(outputDir, `demo-${width}.png`);
      const png = await page.screenshot({ path, fullPage: true });
      // Decoded by the browser: a blank page has one or two colours, this one many.
      const colours = await page.evaluate(async (base64) => {
        const image = new Image();
        image.src = `data:image/png;base64,${base64}`;
        await image.decode();
        const canvas = Object.assign(document.createElement("canvas"), { width: image.width, height: image.height });
        const context = canvas.getContext("2d");
        if (context === null) return 0;
        context.drawImage(image, 0, 0);
        const { data } = context.getImageData(0, 0, image.width, image.height);
        const seen = new Set<number>();
        for (let i = 0; i < data.length; i += 4 * 7) seen.add(((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0));
        return seen.size;
      }, png.toString("base64"));
      expect(colours, `${path} looks blank`).toBeGreaterThan(50);
    }
    expect(pageErrors).toEqual([]);
  });
});
