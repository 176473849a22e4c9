import { chromium } from "playwright";
import { CHROMIUM_ARGS, chromiumPath } from "../cdp.js";
import type { ServerChild } from "../children.js";
import type { Row } from "../report.js";
import type { StreamPath, StreamRunResult } from "../shared.js";
import { fmt, median } from "../stats.js";

export interface DriverCheck {
  readonly path: StreamPath;
  /** Median msgs/s over raw CDP (from row 1) and through Playwright's page. */
  readonly rawCdp: number;
  readonly playwright: number;
}

const CHECKED: readonly StreamPath[] = ["raw-ws", "sub-onmessage", "sse-client"];

/**
 * Why the benchmark drives Chromium over raw CDP: the same page and runs
 * through Playwright's `page.evaluate`, whose network instrumentation sees
 * every WebSocket frame and response chunk.
 */
export async function checkPlaywright(
  replay: ServerChild,
  script: string,
  count: number,
  runs: number,
  rawCdp: (p: StreamPath) => number,
): Promise<DriverCheck[]> {
  const baseUrl = String(replay.info["url"]);
  const browser = await chromium.launch({
    executablePath: await chromiumPath(),
    args: CHROMIUM_ARGS.filter((a) => a !== "--headless"),
    headless: true,
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/bench`);
    await page.evaluate(script);
    const out: DriverCheck[] = [];
    for (const path of CHECKED) {
      const rates: number[] = [];
      for (let i = -1; i < runs; i++) {
        const r = await page.evaluate<StreamRunResult, { path: StreamPath; baseUrl: string; count: number }>(
          (params) =>
            (globalThis as unknown as { weatherBench: { stream(p: typeof params): Promise<StreamRunResult> } }).weatherBench.stream(params),
          { path, baseUrl, count },
        );
        if (i >= 0) rates.push((r.count / r.ms) * 1000);
      }
      out.push({ path, rawCdp: rawCdp(path), playwright: median(rates) });
    }
    return out;
  } finally {
    await browser.close();
  }
}

export function driverCheckRows(results: readonly DriverCheck[]): Row[] {
  const section = "0. Driver check: the same page over raw CDP vs Playwright (msgs/s, median)";
  return results.map((r) => ({
    section,
    name: `${r.path}: raw CDP / Playwright`,
    value: `${fmt(r.rawCdp)} / ${fmt(r.playwright)}`,
    ratio: `Playwright ${(r.playwright / r.rawCdp).toFixed(2)}x`,
    target: "",
    status: "",
  }));
}
