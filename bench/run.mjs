// `npm run bench`: bundles the driver and the server/client children (TypeScript,
// importing the SDK sources) into bench/results/build/, then runs the driver on
// this Node with the arguments given after `--`.
/* global process, URL */
import { spawnSync } from "node:child_process";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const outdir = `${root}bench/results/build`;
await build({
  absWorkingDir: root,
  entryPoints: ["bench/driver.ts", "bench/server-child.ts", "bench/fanout-client.ts", "bench/memory-child.ts"],
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
const result = spawnSync(process.execPath, ["--enable-source-maps", `${outdir}/driver.mjs`, ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
