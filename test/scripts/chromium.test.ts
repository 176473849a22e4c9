// scripts/chromium.mjs: the browser the tests and the bench launch, found without a system install.
import { describe, expect, it } from "vitest";
import { resolveChromium } from "../../scripts/chromium.mjs";
import { launchChromium } from "../helpers/chromium.js";
import { startServer } from "../helpers/server.js";

describe("resolveChromium", () => {
  it("takes CHROMIUM_PATH first, and says so when it does not exist", async () => {
    const system = await resolveChromium({ ...process.env, CHROMIUM_PATH: "" });
    const chosen = await resolveChromium({ ...process.env, CHROMIUM_PATH: system.executablePath, WEATHER_SDK_CHROMIUM: "bundled" });
    expect(chosen).toMatchObject({ executablePath: system.executablePath, source: "CHROMIUM_PATH" });
    await expect(resolveChromium({ CHROMIUM_PATH: "/nonexistent/chromium" })).rejects.toThrow(
      "CHROMIUM_PATH is /nonexistent/chromium, which does not exist",
    );
  });

  it("refuses an unknown WEATHER_SDK_CHROMIUM", async () => {
    await expect(resolveChromium({ WEATHER_SDK_CHROMIUM: "firefox" })).rejects.toThrow(
      'WEATHER_SDK_CHROMIUM must be one of system, playwright, bundled, got "firefox"',
    );
  });

  it("with no system browser on PATH, says what to do or falls back past it", async () => {
    const result = await resolveChromium({ PATH: "", WEATHER_SDK_CHROMIUM: "system" }).then(
      (r) => r.source,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    // On Linux nothing on an empty PATH; on macOS and Windows the fixed install paths may hold one.
    if (process.platform === "linux") expect(result).toMatch(/^no Chromium found: set CHROMIUM_PATH/);
  });

  it.runIf(process.platform === "linux")(
    "on Linux, brings its own Chromium (@sparticuz/chromium), which opens a page that talks to a real server and has a locale Intl accepts under LANG=C.UTF-8",
    { timeout: 60_000 },
    async () => {
      const previous = {
        WEATHER_SDK_CHROMIUM: process.env["WEATHER_SDK_CHROMIUM"],
        LANG: process.env["LANG"],
        LC_ALL: process.env["LC_ALL"],
      };
      process.env["WEATHER_SDK_CHROMIUM"] = "bundled";
      // The C locale, as on many CI machines: the bundled build made navigator.language "en-US@posix", which Intl rejects.
      process.env["LANG"] = "C.UTF-8";
      delete process.env["LC_ALL"];
      const server = await startServer();
      try {
        const bundled = await resolveChromium();
        expect(bundled.source).toBe("bundled");
        const browser = await launchChromium();
        try {
          const page = await browser.newPage();
          // A page on the server's origin: a blank page's origin is "null", which the server never allows.
          await page.goto(`${server.url}/healthz`);
          const status = await page.evaluate(async (url) => (await fetch(url)).status, `${server.url}/healthz`);
          expect(status).toBe(200);
          // uPlot, for one, formats numbers with new Intl.NumberFormat(navigator.language) when it loads.
          expect(await page.evaluate(() => new Intl.NumberFormat(navigator.language).format(1.5))).toBe("1.5");
        } finally {
          await browser.close();
        }
      } finally {
        // Restored as they were (an unset variable is deleted; resolveChromium may have set LC_ALL).
        const env = process.env;
        if (previous.WEATHER_SDK_CHROMIUM === undefined) delete env["WEATHER_SDK_CHROMIUM"];
        else env["WEATHER_SDK_CHROMIUM"] = previous.WEATHER_SDK_CHROMIUM;
        if (previous.LANG === undefined) delete env["LANG"];
        else env["LANG"] = previous.LANG;
        if (previous.LC_ALL === undefined) delete env["LC_ALL"];
        else env["LC_ALL"] = previous.LC_ALL;
        await server.close();
      }
    },
  );
});
