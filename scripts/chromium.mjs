// The one place that finds a Chromium for the browser tests (vite.config.ts, test/helpers/chromium.ts)
// and for `npm run bench`. In order: CHROMIUM_PATH; a system Chromium or Chrome; Playwright's
// installed browser (`npx playwright install chromium`); on Linux, the Chromium inside the
// `@sparticuz/chromium` dev dependency, unpacked on first use. The last makes `npm ci && npm test`
// work on a Linux machine with nothing but Node and npm.
//
// WEATHER_SDK_CHROMIUM=system|playwright|bundled takes only that source (tests of the
// fresh-machine path use `bundled`). `node scripts/chromium.mjs` prints the path it found.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Flags every launch uses: headless-friendly, quiet and offline (TOOLCHAIN.md). */
export const CHROMIUM_ARGS = Object.freeze([
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
]);

const SOURCES = ["system", "playwright", "bundled"];

/** Executable names and install paths of Chromium and Chrome on this platform. */
function systemCandidates(env) {
  if (process.platform === "darwin") {
    return [
      "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
      "/Applications/Chromium.app/Contents/MacOS/Chromium",
      "/Applications/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
    ];
  }
  if (process.platform === "win32") {
    const roots = [env["PROGRAMFILES"], env["PROGRAMFILES(X86)"], env["LOCALAPPDATA"]].filter((r) => r !== undefined);
    return roots.flatMap((r) => [
      join(r, "Google", "Chrome", "Application", "chrome.exe"),
      join(r, "Chromium", "Application", "chrome.exe"),
    ]);
  }
  const names = ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "chrome"];
  const dirs = (env["PATH"] ?? "").split(delimiter).filter((d) => d !== "");
  return dirs.flatMap((d) => names.map((n) => join(d, n)));
}

async function fromPlaywright() {
  try {
    const { chromium } = await import("playwright");
    const path = chromium.executablePath();
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

async function fromBundled() {
  if (process.platform !== "linux") return undefined;
  try {
    const { default: chromium } = await import("@sparticuz/chromium");
    return await chromium.executablePath();
  } catch {
    return undefined;
  }
}

/**
 * Finds a Chromium to launch: `{ executablePath, args, source }`. Throws an
 * error that says what to do when there is none.
 */
export async function resolveChromium(env = process.env) {
  const args = [...CHROMIUM_ARGS];
  const explicit = env["CHROMIUM_PATH"];
  if (explicit !== undefined && explicit !== "") {
    if (!existsSync(explicit)) throw new Error(`CHROMIUM_PATH is ${explicit}, which does not exist`);
    return { executablePath: explicit, args, source: "CHROMIUM_PATH" };
  }
  const only = env["WEATHER_SDK_CHROMIUM"];
  if (only !== undefined && only !== "" && !SOURCES.includes(only)) {
    throw new Error(`WEATHER_SDK_CHROMIUM must be one of ${SOURCES.join(", ")}, got "${only}"`);
  }
  const wants = (source) => only === undefined || only === "" || only === source;
  if (wants("system")) {
    const path = systemCandidates(env).find((p) => existsSync(p));
    if (path !== undefined) return { executablePath: path, args, source: "system" };
  }
  if (wants("playwright")) {
    const path = await fromPlaywright();
    if (path !== undefined) return { executablePath: path, args, source: "playwright" };
  }
  if (wants("bundled")) {
    const path = await fromBundled();
    if (path !== undefined) {
      // This build takes navigator.language from the environment, and under the C or POSIX locale
      // (LANG=C.UTF-8, as on many CI machines) that is "en-US@posix", which Intl rejects: a page that formats
      // with it (uPlot does, as it loads) throws. The browsers launched after this inherit `env` (process.env
      // by default).
      const locale = env["LC_ALL"] || env["LC_MESSAGES"] || env["LANG"] || "";
      if (/^(C|POSIX)?([._@]|$)/.test(locale)) env["LC_ALL"] = "en_US.UTF-8";
      return { executablePath: path, args, source: "bundled" };
    }
  }
  throw new Error(
    "no Chromium found: set CHROMIUM_PATH, install Chrome or Chromium, or run `npx playwright install chromium`" +
      (process.platform === "linux" ? " (on Linux, `npm ci` also brings one: @sparticuz/chromium)" : ""),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { executablePath, source } = await resolveChromium();
    console.log(`${executablePath}\t(${source})`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
