/** Summaries of V8 CPU profiles (Chromium's CDP `Profiler`, or Node's `--cpu-prof`). */

export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface HotFunction {
  readonly name: string;
  readonly where: string;
  /** Share of all samples (idle included) spent in the function itself. */
  readonly selfPercent: number;
}

/** The functions with the most self time, largest first. */
export function hotFunctions(profile: CpuProfile, top = 15): HotFunction[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { name: string; where: string; samples: number }>();
  const samples = profile.samples ?? [];
  for (const id of samples) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split("/").pop() ?? url;
    const key = `${functionName}|${file}|${lineNumber}`;
    const entry = self.get(key) ?? {
      name: functionName === "" ? "(anonymous)" : functionName,
      where: file === "" ? "" : `${file}:${lineNumber + 1}`,
      samples: 0,
    };
    entry.samples++;
    self.set(key, entry);
  }
  return [...self.values()]
    .sort((a, b) => b.samples - a.samples)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, selfPercent: (100 * e.samples) / Math.max(1, samples.length) }));
}
