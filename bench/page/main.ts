/**
 * The benchmark page: bundled with esbuild from the SDK sources and injected
 * into a tab of the server's origin, then driven over CDP with
 * `Runtime.evaluate("weatherBench.…")`.
 */
import type { PageApi } from "../shared.js";
import { subsClose, subsCount, subsOpen } from "./many-subs.js";
import { runStream } from "./stream-paths.js";
import { runUnary, runUnaryPaired } from "./unary-paths.js";

const api: PageApi = { stream: runStream, unary: runUnary, unaryPaired: runUnaryPaired, subsOpen, subsCount, subsClose };
(globalThis as unknown as { weatherBench: PageApi }).weatherBench = api;
