import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");

it("README's 'Testing your app' example is the one test/mocked/browser/readme.test.ts runs in Chromium, under 20 lines", () => {
  const readme = read("README.md");
  const section = readme.slice(readme.indexOf("## Testing your app"));
  const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const test = read("test/mocked/browser/readme.test.ts").replace(/^\/\/.*\n/, "");
  expect(snippet).toBe(test);
  expect(snippet.split("\n").filter((line) => line.trim() !== "").length).toBeLessThan(20);
});
