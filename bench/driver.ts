/**
 * `npm run bench`: every benchmark of issue 9 in one run on one machine,
 * printed as one table and written to bench/results.json.
 *
 * Options: `--runs=N` (median of N, default 5), `--count=N` (messages per
 * stream, default 200000), `--only=throughput,e2e,unary,wire,subs,fanout,memory,scaleout,bundle,driver`,
 * `--profile=path[,path]` (CDP CPU profile of a replay path, or `live-<path>`, or `unary-<row key>`
 * such as `unary-replay-tunnel-client`).
 * A complete default run writes bench/results.json and the results section of
 * bench/README.md; any other run writes bench/results/partial.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { launchChromium } from "./cdp.js";
import { type ServerChild, startServerChild } from "./children.js";
import { bySection, formatMarkdown, formatTable, type Row } from "./report.js";
import { bundleRows, measureBundles } from "./sections/bundles.js";
import type { BrowserContext } from "./sections/context.js";
import { checkPlaywright, driverCheckRows } from "./sections/driver-check.js";
import { fanoutRows, measureFanout } from "./sections/fanout.js";
import { measureScaleOut, scaleOutRows } from "./sections/scaleout.js";
import { measureSseFloor, sseFloorRows } from "./sections/sse-floor.js";
import { endToEndRows, LIVE_TICK_MS, measureEndToEnd, measureLiveWire } from "./sections/live.js";
import { manySubsRows, measureManySubs } from "./sections/many-subs.js";
import { measureMemory, memoryRows } from "./sections/memory.js";
import { measureThroughput, throughputRows } from "./sections/throughput.js";
import { measureUnary, unaryRows } from "./sections/unary.js";
import { wireRows } from "./sections/wire.js";

const SECTIONS = ["driver", "throughput", "e2e", "unary", "wire", "subs", "fanout", "memory", "scaleout", "bundle"] as const;
type Section = (typeof SECTIONS)[number];

const benchDir = fileURLToPath(new URL("../../", import.meta.url));
const root = fileURLToPath(new URL("..", `file://${benchDir}`));
const outDir = `${benchDir}results`;

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

const runs = Number(option("runs") ?? 5);
const count = Number(option("count") ?? 200_000);
const only = new Set((option("only")?.split(",") ?? SECTIONS) as Section[]);
const profile = new Set(
  option("profile")
    ?.split(",")
    .filter((p) => p !== "") ?? [],
);
const log = (line: string) => console.error(line);

async function buildPage(): Promise<string> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["bench/page/main.ts"],
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    write: false,
    logLevel: "warning",
  });
  const text = result.outputFiles[0]?.text;
  if (text === undefined) throw new Error("the page did not build");
  return text;
}

async function main(): Promise<void> {
  const started = Date.now();
  mkdirSync(outDir, { recursive: true });
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  const wants = (s: Section) => only.has(s);
  const browserSections = (["driver", "throughput", "e2e", "unary", "wire", "subs"] as const).some(wants);

  const children: ServerChild[] = [];
  let chromiumVersion = "";
  try {
    if (browserSections) {
      log(`building the page and starting servers (${count} messages per stream)…`);
      const script = await buildPage();
      const replay = await startServerChild(["replay", String(count)]);
      children.push(replay);
      const live = await startServerChild(["live", String(LIVE_TICK_MS), String((count + 10_000) * LIVE_TICK_MS)]);
      children.push(live);
      const browser = await launchChromium();
      chromiumVersion = browser.version;
      let rawReplay = Number.NaN;
      let rawCdp: (path: string) => number = () => Number.NaN;
      try {
        const ctx: BrowserContext = { page: await browser.newPage(), script, runs, count, profile, outDir, log };
        if (wants("throughput") || wants("wire") || wants("driver")) {
          const throughput = await measureThroughput(ctx, replay);
          data["throughput"] = throughput;
          rawReplay = throughput.paths.find((p) => p.path === "raw-ws")?.median ?? Number.NaN;
          rawCdp = (path) => throughput.paths.find((p) => p.path === path)?.median ?? Number.NaN;
          rows.push(...throughputRows(throughput, count));
          if (wants("e2e")) {
            const e2e = await measureEndToEnd(ctx, live, Math.min(runs, 3));
            data["endToEnd"] = e2e;
            rows.push(...endToEndRows(e2e, rawReplay, count));
          }
          if (wants("wire")) {
            const liveWire = await measureLiveWire(ctx, live, Math.min(count, 50_000));
            data["wire"] = {
              replay: throughput.paths.map(({ path, downBytes, upBytes }) => ({ path, downBytes, upBytes })),
              live: liveWire,
            };
            rows.push(...wireRows(throughput, count, liveWire));
          }
        } else if (wants("e2e")) {
          const e2e = await measureEndToEnd(ctx, live, Math.min(runs, 3));
          data["endToEnd"] = e2e;
          rows.push(...endToEndRows(e2e, rawReplay, count));
        }
        if (wants("unary")) {
          const unary = await measureUnary(ctx, live, replay, 2, 500);
          data["unary"] = unary;
          rows.push(...unaryRows(unary));
        }
        if (wants("subs")) {
          const subsServer = await startServerChild(["live", "100", "600000"]);
          children.push(subsServer);
          const subs = await measureManySubs(ctx, subsServer, 1000, 100, 3);
          data["manySubscriptions"] = subs;
          rows.push(...manySubsRows(subs));
        }
      } finally {
        await browser.close();
      }
      if (wants("driver")) {
        log("driver check: the same page through Playwright…");
        const check = await checkPlaywright(replay, script, count, 3, rawCdp);
        data["driverCheck"] = check;
        rows.push(...driverCheckRows(check));
      }
      // The fan-out section starts servers of its own: stop these so idle processes take nothing from it.
      for (const child of children.splice(0)) await child.stop();
    }
    if (wants("fanout")) {
      const fanout = [];
      for (const n of [1000, 5000]) fanout.push(await measureFanout({ subscribers: n, connections: 4, windowMs: 5000 }, log));
      // Issue 22: 20,000 on one instance, over a minute so that memory shows whether it stays flat; raw
      // tunnel subscribers (bench/raw-fanout.ts) so that the client process keeps up on 2 cores, and the
      // 5,000 row again with them, side by side.
      const raw = { windowMs: 60_000, raw: true };
      fanout.push(await measureFanout({ ...raw, subscribers: 5000, connections: 4 }, log));
      fanout.push(await measureFanout({ ...raw, subscribers: 20_000, connections: 4 }, log));
      fanout.push(await measureFanout({ ...raw, subscribers: 20_000, connections: 40 }, log));
      fanout.push(await measureFanout({ ...raw, subscribers: 20_000, connections: 4, sseSubscribers: 2000 }, log));
      // The same with the SSE responses over HTTP/2 (h2c), as browsers reach SSE at scale: streams share sessions.
      fanout.push(await measureFanout({ ...raw, subscribers: 20_000, connections: 4, sseSubscribers: 2000, sseHttp2Sessions: 8 }, log));
      // What one SSE event costs: the 2,000 SSE subscribers alone, and Node's own floor under them (a bare server).
      const alone = { windowMs: 15_000, raw: true, subscribers: 2000, connections: 4, sseSubscribers: 2000 };
      fanout.push(await measureFanout(alone, log));
      fanout.push(await measureFanout({ ...alone, sseHttp2Sessions: 8 }, log));
      const floors = [await measureSseFloor("h1", 10_000, log), await measureSseFloor("h2", 10_000, log)];
      data["fanout"] = fanout;
      data["sseFloor"] = floors;
      rows.push(...fanoutRows(fanout), ...sseFloorRows(floors, fanout));
    }
    if (wants("memory")) {
      const memory = await measureMemory(log);
      data["memory"] = memory;
      rows.push(...memoryRows(memory));
    }
    if (wants("scaleout")) {
      const scaleOut = await measureScaleOut([5000, 20_000], 5000, log);
      data["scaleOut"] = scaleOut;
      rows.push(...scaleOutRows(scaleOut));
    }
    if (wants("bundle")) {
      const bundles = await measureBundles(root);
      data["bundles"] = bundles;
      rows.push(...bundleRows(bundles));
    }
  } finally {
    for (const child of children) await child.stop();
  }

  const environment = {
    chromium: chromiumVersion,
    date: new Date(started).toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "",
    runs,
    count,
    sections: [...only],
    seconds: Math.round((Date.now() - started) / 1000),
  };
  rows.splice(0, rows.length, ...bySection(rows));
  const machine = `${environment.cpus} × ${environment.cpuModel}, Node ${environment.node}, ${chromiumVersion}; ${environment.date}, ${environment.seconds} s`;
  console.log(formatTable(rows));
  console.log(`\n${machine}`);
  // Only a complete default run replaces the published results; partial or shortened runs go next to the build.
  const complete = SECTIONS.every(wants) && runs === 5 && count === 200_000;
  const json = `${JSON.stringify({ environment, rows, markdown: formatMarkdown(rows), data }, null, 2)}\n`;
  const file = complete ? `${benchDir}results.json` : `${outDir}/partial.json`;
  writeFileSync(file, json);
  log(`wrote ${file}`);
  if (complete) updateReadme(`${formatMarkdown(rows)}\n\n${machine}.`);
}

/** Replaces the results between the markers of bench/README.md. */
function updateReadme(markdown: string): void {
  const path = `${benchDir}README.md`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return;
  }
  const start = "<!-- results:start -->";
  const end = "<!-- results:end -->";
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return;
  writeFileSync(path, `${text.slice(0, a + start.length)}\n${markdown}\n${text.slice(b)}`);
  log(`updated ${path}`);
}

await main();
