// A webpack loader for the bundle-size measurement (bench/bundle-size.ts): strips TypeScript
// types with esbuild, nothing else (the output stays ES2022 modules for webpack to bundle).
import { transform } from "esbuild";

/** @this {{ async(): (error: Error | null, code?: string) => void; resourcePath: string }} */
export default function tsLoader(source) {
  const done = this.async();
  transform(source, { loader: "ts", format: "esm", target: "es2022", sourcefile: this.resourcePath }).then(
    (result) => done(null, result.code),
    (error) => done(error),
  );
}
