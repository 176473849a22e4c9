import { BUNDLE_APPS, type BundleApp, measureApp } from "../bundle-size.js";
import { check, ratio, type Row } from "../report.js";
import { kib } from "../stats.js";

export interface BundleResult {
  readonly app: BundleApp;
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  readonly brotliBytes: number;
  /** All chunks, the ones loaded on demand included. */
  readonly totalGzipBytes: number;
  readonly modules: number;
}

/** Row 6: every app of bench/apps/, bundled and compressed. */
export async function measureBundles(root: string): Promise<BundleResult[]> {
  const out: BundleResult[] = [];
  for (const app of Object.keys(BUNDLE_APPS) as BundleApp[]) {
    const m = await measureApp(app, root);
    if (m.externalImports.length > 0) throw new Error(`${app} imports ${m.externalImports.join(", ")} at run time`);
    out.push({
      app,
      minifiedBytes: m.minifiedBytes,
      gzipBytes: m.gzipBytes,
      brotliBytes: m.brotliBytes,
      totalGzipBytes: m.totalGzipBytes,
      modules: m.inputs.length,
    });
  }
  return out;
}

export function bundleRows(results: readonly BundleResult[]): Row[] {
  const section = "6. Bundle size of a small app (Vite build): loaded at start, minified / gzip / brotli; on-demand chunks after the ratio";
  const base = results.find((r) => r.app === "connect-web-grpc-web")?.gzipBytes ?? Number.NaN;
  return results.map((r) => {
    const target = r.app === "full-sdk" ? "gzip ≤ 1.15x baseline" : r.app === "websocket-only" ? "gzip < baseline" : "";
    const status =
      r.app === "full-sdk" ? check(r.gzipBytes / base, "<=", 1.15) : r.app === "websocket-only" ? check(r.gzipBytes, "<", base) : "";
    return {
      section,
      name: `${r.app}: ${BUNDLE_APPS[r.app]}`,
      value: `${kib(r.minifiedBytes)} / ${kib(r.gzipBytes)} / ${kib(r.brotliBytes)}`,
      ratio: `${r.app === "connect-web-grpc-web" ? "1.00x gzip" : ratio(r.gzipBytes, base, "gzip")}${r.totalGzipBytes > r.gzipBytes ? `; +${kib(r.totalGzipBytes - r.gzipBytes)} gzip on demand` : ""}`,
      target,
      status,
    };
  });
}
