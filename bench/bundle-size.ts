/**
 * Bundle sizes of small consumer apps (bench/apps/), built as an app team
 * would: Vite's production build (minified, tree-shaken, code-split). Shared
 * by `npm run bench` and test/bundle-size.test.ts.
 */
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build as viteBuild } from "vite";

export const BUNDLE_APPS = {
  "full-sdk": "createWeatherClient, every transport",
  "websocket-only": "createClient + createWebSocketTransport",
  "sse-only": "createClient + createSseTransport",
  "connect-web-grpc-web": "baseline: createClient + connect-web createGrpcWebTransport",
} as const;

export type BundleApp = keyof typeof BUNDLE_APPS;

export interface BundleSize {
  readonly app: BundleApp;
  /** What a page loads at start: the entry chunk and the chunks it imports statically. */
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  readonly brotliBytes: number;
  /** Every chunk, the ones loaded on demand (dynamic `import()`) included; each compressed on its own. */
  readonly totalMinifiedBytes: number;
  readonly totalGzipBytes: number;
  /** Every module that went into the bundle (metafile inputs). */
  readonly inputs: readonly string[];
  /** Modules of the chunks loaded at start. */
  readonly initialInputs: readonly string[];
  /** Imports left in the output that are not chunks of the build (externals); a browser bundle must have none. */
  readonly externalImports: readonly string[];
  /** All chunks' code. */
  readonly code: string;
}

const gzip = (bytes: Uint8Array): number => gzipSync(bytes, { level: 9 }).length;
const brotli = (bytes: Uint8Array): number =>
  brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length;
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/**
 * Bundles one app in memory as an app team would, with Vite's production
 * build (minified, ES2022, code splitting), and measures it; gzip level 9 and
 * brotli quality 11 for each chunk, so sizes are deterministic. `root` is the
 * repository root.
 */
export async function measureApp(app: BundleApp, root: string): Promise<BundleSize> {
  const built = await viteBuild({
    configFile: false,
    logLevel: "silent",
    root,
    build: {
      write: false,
      minify: true,
      target: "es2022",
      modulePreload: false,
      rollupOptions: { input: join(root, `bench/apps/${app}.ts`) },
    },
  });
  const output = (Array.isArray(built) ? built : [built]).flatMap((b) => ("output" in b ? b.output : []));
  const chunks = new Map(output.flatMap((o) => (o.type === "chunk" ? [[o.fileName, o] as const] : [])));
  const entry = [...chunks.values()].find((c) => c.isEntry);
  if (entry === undefined) throw new Error(`Vite produced no entry chunk for ${app}`);
  // The chunks a page loads at start: the entry and what it imports statically, transitively.
  const initial = new Set<string>();
  const visit = (fileName: string): void => {
    if (initial.has(fileName)) return;
    initial.add(fileName);
    for (const i of chunks.get(fileName)?.imports ?? []) visit(i);
  };
  visit(entry.fileName);
  const encoder = new TextEncoder();
  const bytesOf = (fileName: string): Uint8Array => encoder.encode(chunks.get(fileName)?.code ?? "");
  const initialFiles = [...initial];
  const allFiles = [...chunks.keys()];
  const modulesOf = (files: readonly string[]) => files.flatMap((f) => (chunks.get(f)?.moduleIds ?? []).map((id) => relative(root, id)));
  return {
    app,
    minifiedBytes: sum(initialFiles.map((f) => bytesOf(f).length)),
    gzipBytes: sum(initialFiles.map((f) => gzip(bytesOf(f)))),
    brotliBytes: sum(initialFiles.map((f) => brotli(bytesOf(f)))),
    totalMinifiedBytes: sum(allFiles.map((f) => bytesOf(f).length)),
    totalGzipBytes: sum(allFiles.map((f) => gzip(bytesOf(f)))),
    inputs: modulesOf(allFiles),
    initialInputs: modulesOf(initialFiles),
    externalImports: [...chunks.values()].flatMap((c) => [...c.imports, ...c.dynamicImports].filter((i) => !chunks.has(i))),
    code: allFiles.map((f) => chunks.get(f)?.code ?? "").join("\n"),
  };
}
