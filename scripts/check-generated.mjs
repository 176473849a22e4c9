// Fails when src/gen/ differs from what `buf generate` produces from proto/.
// Generates into a temporary folder so the working tree is never touched.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "weather-sdk-gen-"));
try {
  execFileSync("npx", ["--no-install", "buf", "generate", "--output", tmp], { cwd: root, stdio: "inherit" });
  const fresh = listFiles(join(tmp, "src/gen"));
  const committed = listFiles(join(root, "src/gen"));
  const problems = [];
  for (const [path, text] of fresh) {
    if (!committed.has(path)) problems.push(`missing: src/gen/${path}`);
    else if (committed.get(path) !== text) problems.push(`stale: src/gen/${path}`);
  }
  for (const path of committed.keys()) {
    if (!fresh.has(path)) problems.push(`not generated from proto/: src/gen/${path}`);
  }
  if (problems.length > 0) {
    console.error(`src/gen/ does not match proto/:\n  ${problems.join("\n  ")}\nRun \`npm run generate\` and commit the result.`);
    process.exit(1);
  }
  console.log(`src/gen/ is fresh (${fresh.size} files)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

function listFiles(dir) {
  const files = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  try {
    walk(dir);
  } catch {
    // A missing folder is reported file by file above.
  }
  return files;
}
