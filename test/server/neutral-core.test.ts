import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const serverDir = join(root, "src/server");
const NEUTRAL_FOLDERS = ["call", "tunnel", "sse", "weather"];
const NODE_ONLY = /^(node:|ws$|@connectrpc\/connect-node)/;

/** The module specifiers a TypeScript file imports or re-exports (type-only ones included). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map(
    (m) => m[1] ?? m[2] ?? "",
  );
}

function sourceOf(from: string, specifier: string): string {
  return resolve(dirname(from), specifier.replace(/\.js$/, ".ts"));
}

describe("the server core is runtime-neutral", () => {
  it("no file under call/, tunnel/, sse/ or weather/ imports node:*, ws or connect-node", () => {
    const offending: string[] = [];
    let files = 0;
    for (const folder of NEUTRAL_FOLDERS) {
      for (const name of readdirSync(join(serverDir, folder), { recursive: true, encoding: "utf8" })) {
        if (!name.endsWith(".ts")) continue;
        files++;
        const file = join(serverDir, folder, name);
        for (const s of specifiers(file)) if (NODE_ONLY.test(s)) offending.push(`${relative(root, file)} imports ${s}`);
      }
    }
    expect(files).toBeGreaterThan(20);
    expect(offending).toEqual([]);
  });

  it("nothing core.ts reaches imports node:*, ws or connect-node, or any Node adapter under http/", () => {
    const seen = new Set<string>();
    const offending: string[] = [];
    const queue = [join(serverDir, "core.ts")];
    for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      if (file.startsWith(join(serverDir, "http"))) offending.push(`${relative(root, file)} is a Node adapter`);
      for (const s of specifiers(file)) {
        if (NODE_ONLY.test(s)) offending.push(`${relative(root, file)} imports ${s}`);
        else if (s.startsWith(".")) queue.push(sourceOf(file, s));
      }
    }
    expect(seen.size).toBeGreaterThan(20);
    expect(offending).toEqual([]);
  });
});
