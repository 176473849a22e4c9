// `npm run build`: compiles src/ into dist/ without ever leaving dist/ empty or half-written.
// tsc writes into a fresh folder beside dist/, which then replaces dist/ by renames; an
// interrupted build leaves the previous dist/ in place. `--if-stale` skips the build when
// dist/ is newer than every file it is built from (what `npm run server` and `npm run demo` use).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const stamp = join(dist, ".build-stamp");
const inputs = ["src", "tsconfig.build.json", "tsconfig.base.json", "package.json"];

/** Newest modification time (ms) among the build's inputs. */
function newestInput() {
  let newest = 0;
  const visit = (path) => {
    const info = statSync(path);
    if (info.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, info.mtimeMs);
  };
  for (const input of inputs) visit(join(root, input));
  return newest;
}

export function isFresh() {
  return existsSync(stamp) && statSync(stamp).mtimeMs >= newestInput();
}

export function build() {
  const startedMs = Date.now();
  const staging = mkdtempSync(join(root, ".dist-"));
  try {
    const tsc = spawnSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", staging],
      {
        cwd: root,
        stdio: "inherit",
      },
    );
    if (tsc.status !== 0) throw new Error(`tsc exited with ${tsc.status ?? tsc.signal}`);
    // Dated when the build started: a source saved while tsc ran makes dist/ stale again.
    const stagedStamp = join(staging, ".build-stamp");
    writeFileSync(stagedStamp, `${new Date(startedMs).toISOString()}\n`);
    utimesSync(stagedStamp, startedMs / 1000, startedMs / 1000);
    const old = `${dist}.old-${process.pid}`;
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(staging, dist);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--if-stale") && isFresh()) {
    console.log("dist/ is up to date");
  } else {
    try {
      build();
    } catch (e) {
      console.error(`build failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    }
  }
}
