// Chromium for the Playwright-driven tests, found by scripts/chromium.mjs (the same browser
// vitest's browser project uses).
import { type Browser, chromium } from "playwright";
import { resolveChromium } from "../../scripts/chromium.mjs";

/** Launches headless Chromium from scripts/chromium.mjs, with its flags plus `extraArgs`. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  const { executablePath, args } = await resolveChromium();
  return chromium.launch({ executablePath, args: [...args, ...extraArgs] });
}
