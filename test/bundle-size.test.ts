import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type BundleSize, BUNDLERS, measureApp } from "../bench/bundle-size.js";

/**
 * Size budgets of the consumer apps in bench/apps/, built as app teams build
 * them with Vite, esbuild and webpack (bench/bundle-size.ts), gzip level 9.
 * What a page loads at start is held against the connect-web gRPC-Web app
 * built by the same bundler: the full-SDK app (createWeatherClient, the fetch
 * transports in a chunk loaded on first use) at most 1.15x, the WebSocket-only
 * app (weather-sdk/websocket) below it.
 *
 * What keeps the ratio on every bundler is a rule of structure, not tree-shaking
 * luck: nothing in the app's graph, the on-demand chunk included, uses
 * protobuf's JSON code. esbuild puts every module that both the start and an
 * on-demand chunk reach into the start chunk, and protobuf's root barrel
 * (which re-exports the JSON code) is reached from the start through connect's
 * ConnectError; so the fallback transports carry binary protobuf only
 * (src/transport/fetch-transports.ts) and the JSON modules are in no chunk.
 * Measured (Vite 8.3.8, esbuild 0.28.2, webpack 5.113.0): full-SDK 1.07x /
 * 1.06x / 1.03x, WebSocket-only 0.88x / 0.87x / 0.88x (esbuild was 1.36x with
 * connect-web's transports in the on-demand chunk).
 *
 * The full-SDK app's absolute budgets (Vite): at start 34,565 B measured
 * (6 % headroom; 32,395 B at issue 9, before auth, reconnectNow and the
 * resume options), everything 42,315 B (12 %; 49,442 B before the fallbacks
 * became binary-only). Raise them only on
 * purpose, with the new measurement in the commit message (`npm run bench --
 * --only=bundle` prints every app on every bundler).
 */
const FULL_SDK_INITIAL_GZIP_BUDGET_BYTES = 36_500;
const FULL_SDK_TOTAL_GZIP_BUDGET_BYTES = 47_500;
const FULL_SDK_RATIO_BUDGET = { vite: 1.15, esbuild: 1.15, webpack: 1.15 } as const;

/** The fallbacks' own modules: every page that never falls back goes without them. */
const FALLBACK_MODULES = /connect-web|eventsource-parser|src\/transport\/sse\/|src\/transport\/fetch(-transports\.ts|\/)/;
/** protobuf's JSON code, which nothing in the SDK's browser graph may use (see above). */
const PROTOBUF_JSON_MODULES = /@bufbuild\/protobuf\/dist\/esm\/(from|to)-json\.js$/;

const root = fileURLToPath(new URL("..", import.meta.url));

const describeSize = (s: BundleSize, base: BundleSize) =>
  `${s.bundler} ${s.app}: at start ${s.gzipBytes} B gzip (${(s.gzipBytes / base.gzipBytes).toFixed(2)}x the connect-web app's ${base.gzipBytes} B), all chunks ${s.totalGzipBytes} B`;

describe("bundle size", () => {
  it("keeps the full-SDK app within its gzip budgets (Vite), loads the fetch transports on demand, and has no Node built-in", async () => {
    const size = await measureApp("full-sdk", root);
    // Vite would swap a Node built-in for an empty stub; check all three ways one could slip in. No test kit either.
    expect(
      size.inputs.filter(
        (i) =>
          i.startsWith("node:") ||
          i.includes("__vite-browser-external") ||
          /(^|\/)src\/server\//.test(i) ||
          i.includes("node_modules/ws/") ||
          // msw is a peer of weather-sdk/testing only: the SDK itself never reaches it.
          i.includes("node_modules/msw/") ||
          i.includes("node_modules/@mswjs/") ||
          /(^|\/)src\/testing\//.test(i),
      ),
    ).toEqual([]);
    expect(size.externalImports).toEqual([]);
    expect(size.code).not.toMatch(/["'`]node:[a-z_/]+["'`]/);
    // The fallbacks are not in what every page loads.
    expect(size.initialInputs.filter((i) => FALLBACK_MODULES.test(i))).toEqual([]);
    expect(size.inputs).toContain("src/transport/fetch-transports.ts");
    expect(size.gzipBytes).toBeLessThanOrEqual(FULL_SDK_INITIAL_GZIP_BUDGET_BYTES);
    expect(size.totalGzipBytes).toBeLessThanOrEqual(FULL_SDK_TOTAL_GZIP_BUDGET_BYTES);
  });

  it.each(BUNDLERS)(
    "%s: the full-SDK app starts within its ratio of the connect-web app, the WebSocket-only app below it",
    { timeout: 120_000 },
    async (bundler) => {
      const base = await measureApp("connect-web-grpc-web", root, bundler);
      const full = await measureApp("full-sdk", root, bundler);
      const ws = await measureApp("websocket-only", root, bundler);
      console.log(`${describeSize(full, base)}\n${describeSize(ws, base)}`);
      for (const s of [base, full, ws]) expect(s.externalImports, s.app).toEqual([]);
      // The fetch transports' own modules load on demand on every bundler.
      expect(full.initialInputs.filter((i) => FALLBACK_MODULES.test(i))).toEqual([]);
      expect(full.inputs).toContain("src/transport/fetch-transports.ts");
      expect(full.inputs.filter((i) => PROTOBUF_JSON_MODULES.test(i))).toEqual([]);
      expect(full.gzipBytes / base.gzipBytes).toBeLessThanOrEqual(FULL_SDK_RATIO_BUDGET[bundler]);
      // The WebSocket-only app has no fetch transport at all, not even on demand.
      expect(ws.inputs.filter((i) => /connect-web|eventsource-parser|src\/transport\/sse\/|src\/client\.ts/.test(i))).toEqual([]);
      expect(ws.gzipBytes).toBeLessThan(base.gzipBytes);
    },
  );
});
