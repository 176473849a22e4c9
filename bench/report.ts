/** One line of the results table. */
export interface Row {
  readonly section: string;
  readonly name: string;
  readonly value: string;
  /** Against the section's baseline, e.g. "0.83x raw". */
  readonly ratio: string;
  readonly target: string;
  readonly status: "met" | "MISSED" | "";
}

/** A target check: `value` against `limit`, higher or lower being better. */
export function check(value: number, op: ">=" | "<=" | "<", limit: number): "met" | "MISSED" {
  const ok = op === ">=" ? value >= limit : op === "<=" ? value <= limit : value < limit;
  return Number.isFinite(value) && ok ? "met" : "MISSED";
}

export function ratio(value: number, baseline: number, label: string): string {
  if (!Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return "";
  return `${(value / baseline).toFixed(2)}x ${label}`;
}

/** Rows ordered by their section's number ("0.", "1.", "1b.", "2.", …), keeping the order within a section. */
export function bySection(rows: readonly Row[]): Row[] {
  const key = (section: string) => {
    const m = /^(\d+)(b?)\./.exec(section);
    return m === null ? Number.POSITIVE_INFINITY : Number(m[1]) + (m[2] === "b" ? 0.5 : 0);
  };
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => key(a.row.section) - key(b.row.section) || a.i - b.i)
    .map(({ row }) => row);
}

/** The table as fixed-width text, one block per section. */
export function formatTable(rows: readonly Row[]): string {
  const head: Row = { section: "", name: "row", value: "value", ratio: "vs baseline", target: "target", status: "" };
  const cols = (r: Row) => [r.name, r.value, r.ratio, r.target, r.status];
  const widths = [0, 0, 0, 0, 0];
  for (const r of [head, ...rows]) cols(r).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: Row) =>
    cols(r)
      .map((c, i) => (i === 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const out: string[] = [line(head)];
  let section = "";
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      out.push("", `## ${section}`);
    }
    out.push(line(r));
  }
  return out.join("\n");
}

/** The table as Markdown, for bench/README.md. */
export function formatMarkdown(rows: readonly Row[]): string {
  const out: string[] = [];
  let section = "";
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      out.push("", `**${section}**`, "", "| row | value | vs baseline | target | status |", "| --- | ---: | --- | --- | --- |");
    }
    out.push(`| ${r.name} | ${r.value} | ${r.ratio} | ${r.target} | ${r.status} |`);
  }
  return out.join("\n").trim();
}
