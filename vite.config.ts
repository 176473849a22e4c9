import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { msw } from "msw/vite";
import { defineConfig } from "vitest/config";
import { CHROMIUM_ARGS, resolveChromium } from "./scripts/chromium.mjs";

// The browser project's Chromium comes from scripts/chromium.mjs (CHROMIUM_PATH, a system browser,
// Playwright's, or the npm-installed one). Without any, Playwright's own error says what is missing
// when the browser project starts; the node project still runs.
const chromium = await resolveChromium().catch((e: unknown) => {
  console.warn(`browser tests: ${e instanceof Error ? e.message : String(e)}`);
  return { executablePath: undefined, args: [...CHROMIUM_ARGS] };
});

// .ci/run asks for a JSON report to build its "N passed, N failed" line.
const jsonReport = process.env["VITEST_JSON_REPORT"];

export default defineConfig({
  test: {
    reporters: jsonReport ? ["default", "json"] : ["default"],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/browser/**", "test/mocked/browser/**"],
          environment: "node",
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        // weather-sdk/testing's mocks in the page: msw's service worker at /mockServiceWorker.js, and the example
        // app under examples/ importing "weather-sdk" as an app would, resolved to this repository's sources.
        plugins: [msw({ mode: "worker-only" })],
        resolve: {
          alias: [
            { find: /^weather-sdk\/testing$/, replacement: fileURLToPath(new URL("src/testing/index.ts", import.meta.url)) },
            { find: /^weather-sdk$/, replacement: fileURLToPath(new URL("src/index.ts", import.meta.url)) },
          ],
        },
        optimizeDeps: {
          // Everything the SDK imports, so the first run does not re-optimize and reload mid-test.
          include: [
            "@bufbuild/protobuf",
            "@bufbuild/protobuf/codegenv2",
            "@bufbuild/protobuf/wire",
            "@connectrpc/connect",
            "@connectrpc/connect-web",
            "@connectrpc/connect/protocol",
            "@connectrpc/connect/protocol-connect",
            "@connectrpc/connect/protocol-grpc-web",
            "eventsource-parser",
            "msw",
            "msw/browser",
          ],
        },
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts", "test/mocked/browser/**/*.test.ts", "examples/*/test/**/*.test.ts"],
          globalSetup: ["test/browser/global-setup.ts"],
          testTimeout: 20_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: chromium.executablePath, args: chromium.args } }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
});
