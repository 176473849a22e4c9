/**
 * Bundle sizes of small consumer apps (bench/apps/), built as an app team
 * would: esbuild, minified, browser platform, tree-shaken. Shared by
 * `npm run bench` and test/bundle-size.test.ts.
 */
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build } from "esbuild";

export const BUNDLE_APPS = {
  "full-sdk": "createWeatherClient, every transport",
  "websocket-only": "createClient + createWebSocketTransport",
  "sse-only": "createClient + createSseTransport",
  "connect-web-grpc-web": "baseline: createClient + connect-web createGrpcWebTransport",
} as const;

export type BundleApp = keyof typeof BUNDLE_APPS;

export interface BundleSize {
  readonly app: BundleApp;
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  readonly brotliBytes: number;
  /** Every module that went into the bundle (metafile inputs). */
  readonly inputs: readonly string[];
  /** Imports left in the output (externals); a browser bundle must have none. */
  readonly externalImports: readonly string[];
  readonly code: string;
}

/**
 * Bundles one app in memory and measures it; gzip level 9 and brotli quality
 * 11, so sizes are deterministic. `root` is the repository root: metafile
 * paths are relative to it.
 */
export async function measureApp(app: BundleApp, root: string): Promise<BundleSize> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [`bench/apps/${app}.ts`],
    bundle: true,
    minify: true,
    treeShaking: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    legalComments: "none",
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced nothing for ${app}`);
  const bytes = output.contents;
  const outputs = Object.values(result.metafile.outputs);
  return {
    app,
    minifiedBytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    brotliBytes: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
    inputs: Object.keys(result.metafile.inputs),
    externalImports: outputs.flatMap((o) => o.imports.map((i) => i.path)),
    code: output.text,
  };
}
