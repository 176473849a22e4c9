// `npm run screenshot:demo`: regenerates docs/demo.png, the README's picture of the demo page.
// Starts `scripts/demo.mjs` on free ports, opens the page in Chromium (found by scripts/chromium.mjs)
// at 1280 px, adds two cities, waits for their readings, drops the connection
// once, waits for every city to resume, and saves the page. SCHEME=dark for the dark colour scheme.
// OUT=path writes elsewhere; WIDTH=390 takes the phone-width picture.
/* global document, requestAnimationFrame -- the callbacks of page.waitForFunction and page.evaluate run in the page */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright";
import { resolveChromium } from "./chromium.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = process.env.OUT ?? fileURLToPath(new URL("../docs/demo.png", import.meta.url));
const width = Number(process.env.WIDTH ?? "1280");
const { executablePath, args } = await resolveChromium();

const demo = spawn(process.execPath, [fileURLToPath(new URL("./demo.mjs", import.meta.url))], {
  cwd: root,
  env: { ...process.env, PORT: "0", DEMO_PORT: "0" },
  stdio: ["ignore", "pipe", "inherit"],
});
const exited = new Promise((resolve) => demo.once("exit", resolve));
let browser;
try {
  const pageUrl = await new Promise((resolve, reject) => {
    let text = "";
    demo.stdout.setEncoding("utf8");
    demo.stdout.on("data", (chunk) => {
      text += chunk;
      const match = /demo page:\s+(http:\/\/\S+)/.exec(text);
      if (match) resolve(match[1]);
    });
    exited.then((code) => reject(new Error(`the demo exited (${code}) before it was ready:\n${text}`)));
  });
  browser = await chromium.launch({ executablePath, args });
  const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: process.env.SCHEME === "dark" ? "dark" : "light" });
  await page.goto(pageUrl);
  await page.waitForSelector("html[data-ready]", { state: "attached" });
  for (const code of ["LON", "TYO"]) {
    await page.selectOption("#city", code);
    await page.click("#add");
  }
  // Three cities open over the WebSocket, each with a screenful of readings, and a round trip measured.
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll("#proof tbody tr")];
      return (
        rows.length === 3 &&
        rows.every((r) => Number(r.getAttribute("data-received")) > 100) &&
        /ms/.test(document.querySelector("#rtt")?.textContent ?? "")
      );
    },
    undefined,
    { timeout: 30_000 },
  );
  // Break the connection once, so the picture shows a resume with nothing lost.
  await page.click("#drop");
  await page.waitForFunction(
    () => [...document.querySelectorAll("#proof tbody tr")].every((r) => Number(r.getAttribute("data-reconnects")) >= 1),
    undefined,
    { timeout: 30_000 },
  );
  await page.waitForFunction(() => /^Live/.test(document.querySelector("#badge")?.textContent ?? ""), undefined, { timeout: 30_000 });
  await page.click("#get");
  await page.waitForFunction(() => /over/.test(document.querySelector("#get-out")?.textContent ?? ""), undefined, { timeout: 15_000 });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.screenshot({ path: out, fullPage: true });
  console.log(`saved ${out}`);
} finally {
  await browser?.close();
  demo.kill("SIGTERM");
  await exited;
}
