/** Where a resolved Chromium came from, in the order they are tried. */
export type ChromiumSource = "CHROMIUM_PATH" | "system" | "playwright" | "bundled";

/** A Chromium to launch, with the flags every launch uses. */
export interface ResolvedChromium {
  readonly executablePath: string;
  readonly args: string[];
  readonly source: ChromiumSource;
}

/** Flags every launch uses: headless-friendly, quiet and offline. */
export declare const CHROMIUM_ARGS: readonly string[];

/**
 * Finds a Chromium: CHROMIUM_PATH, a system Chromium or Chrome, Playwright's
 * installed browser, then (Linux) `@sparticuz/chromium`. WEATHER_SDK_CHROMIUM
 * (system, playwright or bundled) takes only that source.
 */
export declare function resolveChromium(env?: Record<string, string | undefined>): Promise<ResolvedChromium>;
