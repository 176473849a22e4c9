// @ts-check
import { builtinModules } from "node:module";
import path from "node:path";
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

// Layers (docs: /work/shared/DESIGN.md "Layers — imports only point down"), checked on every import of src/:
// - src/codec/ holds wire formats only: it imports nothing from src/ but src/codec/ and src/gen/;
// - outside src/transport/ (and the server), a transport is reached only through its entry file;
// - nothing outside src/server/ imports src/server/ (tests, bench and scripts may);
// - the runtime-neutral server core (src/server/{call,tunnel,sse,weather}/) imports no node:* module and no ws.

/** Entry files of the transports: the only files of src/transport/<name>/ that other layers import. */
const TRANSPORT_ENTRIES = new Set([
  "src/transport/websocket/index.ts",
  // The SSE transport has no index.ts yet; its entry is the factory.
  "src/transport/sse/create-sse-transport.ts",
]);
const NEUTRAL_SERVER = /^src\/server\/(call|tunnel|sse|weather)\//;
// The runtime-neutral server entry, which the mocked-testing kit (src/testing/) runs inside a page.
const NEUTRAL_SERVER_ENTRY = "src/server/core.ts";
const NODE_MODULES = new Set(builtinModules);

/**
 * Why an import of `source` from repository file `file` breaks a layer, or undefined when it does not.
 * @param {string} file
 * @param {string} source
 * @returns {string | undefined}
 */
function layerViolation(file, source) {
  if (!source.startsWith(".")) {
    const bare = source.startsWith("node:") || NODE_MODULES.has(source.split("/")[0] ?? "") || source === "ws" || source.startsWith("ws/");
    if (bare && NEUTRAL_SERVER.test(file)) {
      return `the server core (src/server/{call,tunnel,sse,weather}/) runs anywhere WebSocket and fetch exist: "${source}" belongs in src/server/http/`;
    }
    return undefined;
  }
  const target = path.posix.join(path.posix.dirname(file), source).replace(/\.js$/, ".ts");
  if (file.startsWith("src/codec/") && target.startsWith("src/") && !target.startsWith("src/codec/") && !target.startsWith("src/gen/")) {
    return `src/codec/ holds wire formats only and imports nothing from src/ but src/codec/ and src/gen/ (found ${target})`;
  }
  if (
    file.startsWith("src/testing/") &&
    target.startsWith("src/server/") &&
    target !== NEUTRAL_SERVER_ENTRY &&
    !NEUTRAL_SERVER.test(target)
  ) {
    return `src/testing/ runs in pages: it reaches the server only through its neutral core (${NEUTRAL_SERVER_ENTRY}), not ${target}`;
  }
  if (!file.startsWith("src/server/") && !file.startsWith("src/testing/") && target.startsWith("src/server/")) {
    return `only src/server/ (and the testing kit, through ${NEUTRAL_SERVER_ENTRY}) imports the server (found ${target}); the browser entry must not reach it`;
  }
  const inTransport = /^src\/transport\/[^/]+\//.test(target);
  if (inTransport && !file.startsWith("src/transport/") && !file.startsWith("src/server/") && !TRANSPORT_ENTRIES.has(target)) {
    return `reach a transport through its entry file (${[...TRANSPORT_ENTRIES].join(", ")}), not ${target}`;
  }
  return undefined;
}

/** @type {import("eslint").Rule.RuleModule} */
const layerImports = {
  meta: { type: "problem", schema: [], messages: { layer: "Layer rule: {{why}}." } },
  create(context) {
    const file = path
      .relative(import.meta.dirname, context.filename)
      .split(path.sep)
      .join("/");
    /** @param {import("estree").Node | null | undefined} node */
    const check = (node) => {
      if (node?.type !== "Literal" || typeof node.value !== "string") return;
      const why = layerViolation(file, node.value);
      if (why !== undefined) context.report({ node, messageId: "layer", data: { why } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export default tseslint.config(
  { ignores: ["dist/", "src/gen/", "node_modules/", "bench/results/", "demo/dist/", "coverage/"] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // `() => resolve()` style callbacks are idiomatic here; returning void from them is harmless.
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  {
    files: ["src/**/*.ts"],
    plugins: { layers: { rules: { imports: layerImports } } },
    rules: { "layers/imports": "error" },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["scripts/**/*.mjs", ".ci/**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
