import { writeFileSync } from "node:fs";
import type { Page } from "../cdp.js";
import { type CpuProfile, type HotFunction, hotFunctions } from "../profile.js";
import type { StreamRunParams, StreamRunResult } from "../shared.js";

/** What every browser section gets from the driver. */
export interface BrowserContext {
  readonly page: Page;
  /** The bundled page (bench/page/main.ts). */
  readonly script: string;
  /** Measured runs per scenario (the median is reported). */
  readonly runs: number;
  /** Messages per server stream. */
  readonly count: number;
  /** Paths to profile with the CDP Profiler (one extra run each). */
  readonly profile: ReadonlySet<string>;
  /** Where .cpuprofile files go. */
  readonly outDir: string;
  readonly log: (line: string) => void;
}

export async function collectGarbage(page: Page): Promise<void> {
  await page.send("HeapProfiler.collectGarbage");
}

export async function heapUsed(page: Page): Promise<number> {
  await collectGarbage(page);
  const { usedSize } = await page.send<{ usedSize: number }>("Runtime.getHeapUsage");
  return usedSize;
}

export function runStream(page: Page, params: StreamRunParams): Promise<StreamRunResult> {
  return page.evaluate<StreamRunResult>(`weatherBench.stream(${JSON.stringify(params)})`);
}

/** One more run of `params` under the sampling profiler; writes the profile and returns its hottest functions. */
export function profileStream(ctx: BrowserContext, label: string, params: StreamRunParams): Promise<HotFunction[]> {
  return profileRun(ctx, label, () => runStream(ctx.page, params));
}

/** Runs `run` in the page under the sampling profiler; writes the profile and returns its hottest functions. */
export async function profileRun(ctx: BrowserContext, label: string, run: () => Promise<unknown>): Promise<HotFunction[]> {
  const { page } = ctx;
  await collectGarbage(page);
  await page.send("Profiler.enable");
  await page.send("Profiler.setSamplingInterval", { interval: 100 });
  await page.send("Profiler.start");
  await run();
  const { profile } = await page.send<{ profile: CpuProfile }>("Profiler.stop");
  await page.send("Profiler.disable");
  const file = `${ctx.outDir}/${label}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));
  const hot = hotFunctions(profile, 15);
  ctx.log(`  profile of ${label} → ${file}`);
  for (const h of hot) ctx.log(`    ${h.selfPercent.toFixed(1).padStart(5)}%  ${h.name}  ${h.where}`);
  return hot;
}
