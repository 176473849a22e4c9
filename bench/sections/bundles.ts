import { BUNDLE_APPS, type BundleApp, type Bundler, BUNDLERS, measureApp } from "../bundle-size.js";
import { check, ratio, type Row } from "../report.js";
import { kib } from "../stats.js";

export interface BundleResult {
  readonly app: BundleApp;
  readonly bundler: Bundler;
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  readonly brotliBytes: number;
  /** All chunks, the ones loaded on demand included. */
  readonly totalGzipBytes: number;
  readonly modules: number;
}

/** Row 6: every app of bench/apps/, bundled by each bundler and compressed. */
export async function measureBundles(root: string): Promise<BundleResult[]> {
  const out: BundleResult[] = [];
  for (const bundler of BUNDLERS) {
    for (const app of Object.keys(BUNDLE_APPS) as BundleApp[]) {
      const m = await measureApp(app, root, bundler);
      if (m.externalImports.length > 0) throw new Error(`${app} (${bundler}) imports ${m.externalImports.join(", ")} at run time`);
      out.push({
        app,
        bundler,
        minifiedBytes: m.minifiedBytes,
        gzipBytes: m.gzipBytes,
        brotliBytes: m.brotliBytes,
        totalGzipBytes: m.totalGzipBytes,
        modules: m.inputs.length,
      });
    }
  }
  return out;
}

export function bundleRows(results: readonly BundleResult[]): Row[] {
  const section =
    "6. Bundle size of a small app (Vite, esbuild, webpack): loaded at start, minified / gzip / brotli; ratio to the same bundler's connect-web app; on-demand chunks after the ratio";
  return results.map((r) => {
    const base = results.find((b) => b.app === "connect-web-grpc-web" && b.bundler === r.bundler)?.gzipBytes ?? Number.NaN;
    const target = r.app === "full-sdk" ? "gzip ≤ 1.15x baseline" : r.app === "websocket-only" ? "gzip < baseline" : "";
    const status =
      r.app === "full-sdk" ? check(r.gzipBytes / base, "<=", 1.15) : r.app === "websocket-only" ? check(r.gzipBytes, "<", base) : "";
    return {
      section,
      name: `${r.bundler} ${r.app}: ${BUNDLE_APPS[r.app]}`,
      value: `${kib(r.minifiedBytes)} / ${kib(r.gzipBytes)} / ${kib(r.brotliBytes)}`,
      ratio: `${r.app === "connect-web-grpc-web" ? "1.00x gzip" : ratio(r.gzipBytes, base, "gzip")}${r.totalGzipBytes > r.gzipBytes ? `; +${kib(r.totalGzipBytes - r.gzipBytes)} gzip on demand` : ""}`,
      target,
      status,
    };
  });
}
