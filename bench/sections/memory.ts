import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { MemoryKind, MemoryMeasure } from "../memory/measure.js";
import { check, type Row } from "../report.js";
import { fmt } from "../stats.js";

/** Subscriptions for the per-subscription figure (issue 22: N = 20,000). */
export const MEMORY_SUBSCRIPTIONS = 20_000;
/** Subscriptions for the breakdown by class (a heap snapshot of 20,000 would take minutes to read). */
const CLASS_SUBSCRIPTIONS = 2000;
/** Readings flowing (busy), or none after the first for the whole measurement (idle). */
const BUSY_TICK_MS = 100;
const IDLE_TICK_MS = 3_600_000;

export interface MemoryResult {
  readonly kind: MemoryKind;
  readonly state: "idle" | "busy";
  /** Heap after GC per subscription at {@link MEMORY_SUBSCRIPTIONS}. */
  readonly measure: MemoryMeasure;
  /** By class, at {@link CLASS_SUBSCRIPTIONS}. */
  readonly breakdown: MemoryMeasure;
}

function runChild(args: readonly string[]): Promise<MemoryMeasure> {
  const here = fileURLToPath(new URL("memory-child.mjs", import.meta.url));
  const child = fork(here, [...args], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: ["--expose-gc", "--enable-source-maps"],
  });
  return new Promise((resolve, reject) => {
    child.on("message", (m: { type?: string; result?: MemoryMeasure }) => {
      if (m.type === "result" && m.result !== undefined) resolve(m.result);
    });
    child.once("exit", (code) => reject(new Error(`memory child ${args.join(" ")} exited with ${String(code)} before a result`)));
  });
}

/**
 * Section 5b: server memory per subscription, in process with stand-in
 * clients that keep nothing (bench/memory/), for the tunnel and SSE, idle
 * and busy: heap after GC with N subscriptions minus without, over N, and
 * the growth by class from heap snapshots.
 */
export async function measureMemory(log: (line: string) => void): Promise<MemoryResult[]> {
  const results: MemoryResult[] = [];
  for (const kind of ["tunnel", "sse"] as const) {
    for (const state of ["idle", "busy"] as const) {
      const tickMs = String(state === "busy" ? BUSY_TICK_MS : IDLE_TICK_MS);
      const measure = await runChild([kind, String(MEMORY_SUBSCRIPTIONS), "4", tickMs, "0"]);
      const breakdown = await runChild([kind, String(CLASS_SUBSCRIPTIONS), "4", tickMs, "1"]);
      log(`  memory ${kind} ${state}: ${fmt(measure.bytesPerSubscription)} B per subscription`);
      results.push({ kind, state, measure, breakdown });
    }
  }
  return results;
}

export function memoryRows(results: readonly MemoryResult[]): Row[] {
  const section = `5b. Server memory per subscription (in process, stand-in clients; heap after GC with ${fmt(MEMORY_SUBSCRIPTIONS)} − without, ÷ ${fmt(MEMORY_SUBSCRIPTIONS)})`;
  return results.map((r) => {
    const limit = r.kind === "tunnel" ? 8192 : 16384;
    const top = (r.breakdown.classes ?? [])
      .slice(0, 3)
      .map((c) => `${c.name} ${fmt(c.bytes)}`)
      .join(", ");
    return {
      section,
      name: `${r.kind === "tunnel" ? "tunnel (4 sockets)" : "SSE (one response each)"}, ${r.state}`,
      value: `${fmt(r.measure.bytesPerSubscription)} B`,
      ratio: `${fmt(r.breakdown.classes?.reduce((n, c) => n + c.objects, 0) ?? Number.NaN, 1)} objects; top: ${top}`,
      target: r.kind === "tunnel" ? "≤ 8 KB" : "≤ 16 KB",
      status: check(r.measure.bytesPerSubscription, "<=", limit),
    };
  });
}
