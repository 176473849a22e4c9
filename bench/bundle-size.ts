/**
 * Bundle sizes of small consumer apps (bench/apps/), built as app teams
 * build them: Vite's production build, esbuild (`--bundle --splitting
 * --format=esm --minify`) and webpack (production mode). Every one minifies
 * and splits code at dynamic `import()`; how each groups modules into the
 * chunks a page loads at start differs, which is why all three are measured.
 * Shared by `npm run bench` and test/bundle-size.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build as esbuild } from "esbuild";
import { build as viteBuild } from "vite";
import webpack from "webpack";

export const BUNDLE_APPS = {
  "full-sdk": "createWeatherClient, every transport",
  "websocket-only": "createClient + createWebSocketTransport",
  "sse-only": "createClient + createSseTransport (weather-sdk/sse)",
  "connect-web-grpc-web": "baseline: createClient + connect-web createGrpcWebTransport",
} as const;

export type BundleApp = keyof typeof BUNDLE_APPS;

export const BUNDLERS = ["vite", "esbuild", "webpack"] as const;

/** A bundler an app team uses: Vite (Rolldown), esbuild, webpack. */
export type Bundler = (typeof BUNDLERS)[number];

export interface BundleSize {
  readonly app: BundleApp;
  readonly bundler: Bundler;
  /** What a page loads at start: the entry chunk and the chunks it imports statically. */
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  readonly brotliBytes: number;
  /** Every chunk, the ones loaded on demand (dynamic `import()`) included; each compressed on its own. */
  readonly totalMinifiedBytes: number;
  readonly totalGzipBytes: number;
  /** Every module that went into the bundle. */
  readonly inputs: readonly string[];
  /** Modules of the chunks loaded at start. */
  readonly initialInputs: readonly string[];
  /** Imports left in the output that are not chunks of the build (externals); a browser bundle must have none. */
  readonly externalImports: readonly string[];
  /** All chunks' code. */
  readonly code: string;
}

/** One bundler's output: chunks by file name, the entry's file name, and each chunk's modules and static imports. */
interface Chunk {
  readonly code: string;
  /** Chunks this one loads before it runs (static imports); on-demand chunks are not listed. */
  readonly imports: readonly string[];
  /** Imports that are not chunks of the build. */
  readonly externals: readonly string[];
  /** Source modules, relative to the repository root. */
  readonly modules: readonly string[];
}
interface Output {
  readonly entry: string;
  readonly chunks: ReadonlyMap<string, Chunk>;
}

const gzip = (bytes: Uint8Array): number => gzipSync(bytes, { level: 9 }).length;
const brotli = (bytes: Uint8Array): number =>
  brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length;
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

async function bundleWithVite(input: string, root: string): Promise<Output> {
  const built = await viteBuild({
    configFile: false,
    logLevel: "silent",
    root,
    build: { write: false, minify: true, target: "es2022", modulePreload: false, rollupOptions: { input } },
  });
  const output = (Array.isArray(built) ? built : [built]).flatMap((b) => ("output" in b ? b.output : []));
  const rollupChunks = output.flatMap((o) => (o.type === "chunk" ? [o] : []));
  const names = new Set(rollupChunks.map((c) => c.fileName));
  const entry = rollupChunks.find((c) => c.isEntry);
  if (entry === undefined) throw new Error("Vite produced no entry chunk");
  const chunks = new Map<string, Chunk>(
    rollupChunks.map((c) => [
      c.fileName,
      {
        code: c.code,
        imports: c.imports,
        externals: [...c.imports, ...c.dynamicImports].filter((i) => !names.has(i)),
        modules: c.moduleIds.map((id) => relative(root, id)),
      },
    ]),
  );
  return { entry: entry.fileName, chunks };
}

async function bundleWithEsbuild(input: string, root: string): Promise<Output> {
  const result = await esbuild({
    absWorkingDir: root,
    entryPoints: [input],
    bundle: true,
    splitting: true,
    format: "esm",
    minify: true,
    target: "es2022",
    platform: "browser",
    outdir: "out",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const code = new Map(result.outputFiles.map((f) => [relative(root, f.path), f.text]));
  let entry: string | undefined;
  const chunks = new Map<string, Chunk>();
  for (const [fileName, meta] of Object.entries(result.metafile.outputs)) {
    if (!fileName.endsWith(".js")) continue;
    // Each dynamic import() target is an entry point too; the app's is the one built from `input`.
    if (meta.entryPoint !== undefined && join(root, meta.entryPoint) === input) entry = fileName;
    chunks.set(fileName, {
      code: code.get(fileName) ?? "",
      imports: meta.imports.filter((i) => i.kind === "import-statement" && i.external !== true).map((i) => i.path),
      externals: meta.imports.filter((i) => i.external === true).map((i) => i.path),
      modules: Object.keys(meta.inputs),
    });
  }
  if (entry === undefined) throw new Error("esbuild produced no entry chunk");
  return { entry, chunks };
}

async function bundleWithWebpack(input: string, root: string): Promise<Output> {
  const outDir = mkdtempSync(join(tmpdir(), "weather-bundle-webpack-"));
  try {
    const stats = await new Promise<webpack.Stats>((resolve, reject) => {
      webpack(
        {
          mode: "production",
          context: root,
          entry: { main: input },
          target: ["web", "es2022"],
          devtool: false,
          output: { path: outDir, filename: "[name].js", chunkFilename: "[name].[contenthash].js", module: true },
          experiments: { outputModule: true },
          resolve: { extensionAlias: { ".js": [".ts", ".js"] }, extensions: [".ts", ".js"] },
          // webpack has no TypeScript of its own: this loader strips the types (like ts-loader with transpileOnly).
          module: { rules: [{ test: /\.ts$/, loader: join(root, "bench/webpack-ts-loader.mjs") }] },
          infrastructureLogging: { level: "error" },
        },
        (error, result) =>
          error ? reject(error) : result === undefined ? reject(new Error("webpack returned no stats")) : resolve(result),
      );
    });
    if (stats.hasErrors()) throw new Error(stats.toString("errors-only"));
    const { compilation } = stats;
    const initialChunks = new Set(compilation.entrypoints.get("main")?.chunks ?? []);
    const initialFiles = [...initialChunks].flatMap((c) => [...c.files].filter((f) => f.endsWith(".js")));
    const chunks = new Map<string, Chunk>();
    let entry: string | undefined;
    for (const chunk of compilation.chunks) {
      // A concatenated module (scope hoisting) stands for several source modules.
      const modules = [...compilation.chunkGraph.getChunkModulesIterable(chunk)]
        .flatMap((m) => ("modules" in m && Array.isArray(m.modules) ? (m.modules as webpack.Module[]) : [m]))
        .flatMap((m) => {
          const resource = m.nameForCondition();
          return resource === null ? [] : [relative(root, resource)];
        });
      for (const file of chunk.files) {
        if (!file.endsWith(".js")) continue;
        if (chunk.hasRuntime() && initialChunks.has(chunk)) entry = file;
        chunks.set(file, {
          code: readFileSync(join(outDir, file), "utf8"),
          // The entrypoint's chunks load before it runs; every other chunk loads on demand.
          imports: initialChunks.has(chunk) ? initialFiles.filter((n) => n !== file) : [],
          externals: [],
          modules,
        });
      }
    }
    const written = readdirSync(outDir).filter((f) => f.endsWith(".js"));
    if (written.length !== chunks.size) throw new Error(`webpack wrote ${written.length} chunks, its stats list ${chunks.size}`);
    if (entry === undefined) throw new Error("webpack produced no entry chunk");
    return { entry, chunks };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * Bundles one app as an app team would with `bundler` (default Vite) and
 * measures it: gzip level 9 and brotli quality 11 for each chunk, so sizes
 * are deterministic. `root` is the repository root.
 */
export async function measureApp(app: BundleApp, root: string, bundler: Bundler = "vite"): Promise<BundleSize> {
  const input = join(root, `bench/apps/${app}.ts`);
  const { entry, chunks } = await (bundler === "vite"
    ? bundleWithVite(input, root)
    : bundler === "esbuild"
      ? bundleWithEsbuild(input, root)
      : bundleWithWebpack(input, root));
  // The chunks a page loads at start: the entry and what it imports statically, transitively.
  const initial = new Set<string>();
  const visit = (fileName: string): void => {
    if (initial.has(fileName)) return;
    initial.add(fileName);
    for (const i of chunks.get(fileName)?.imports ?? []) visit(i);
  };
  visit(entry);
  const encoder = new TextEncoder();
  const bytesOf = (fileName: string): Uint8Array => encoder.encode(chunks.get(fileName)?.code ?? "");
  const initialFiles = [...initial];
  const allFiles = [...chunks.keys()];
  const modulesOf = (files: readonly string[]) => files.flatMap((f) => (chunks.get(f)?.modules ?? []).map((m) => m.replace(/^\.\//, "")));
  return {
    app,
    bundler,
    minifiedBytes: sum(initialFiles.map((f) => bytesOf(f).length)),
    gzipBytes: sum(initialFiles.map((f) => gzip(bytesOf(f)))),
    brotliBytes: sum(initialFiles.map((f) => brotli(bytesOf(f)))),
    totalMinifiedBytes: sum(allFiles.map((f) => bytesOf(f).length)),
    totalGzipBytes: sum(allFiles.map((f) => gzip(bytesOf(f)))),
    inputs: modulesOf(allFiles),
    initialInputs: modulesOf(initialFiles),
    externalImports: [...chunks.values()].flatMap((c) => c.externals),
    code: allFiles.map((f) => chunks.get(f)?.code ?? "").join("\n"),
  };
}
