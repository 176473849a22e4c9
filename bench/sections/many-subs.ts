import type { ServerChild } from "../children.js";
import { check, type Row } from "../report.js";
import { fmt, kib, median } from "../stats.js";
import { type BrowserContext, heapUsed } from "./context.js";

export interface ManySubsResult {
  readonly subscriptions: number;
  readonly tickMs: number;
  readonly openMs: number[];
  readonly medianOpenMs: number;
  readonly messagesPerSecond: number;
  /** JS heap after GC: before any subscription, and with all of them open. */
  readonly heapBeforeBytes: number;
  readonly heapOpenBytes: number;
}

/** Row 4: many subscriptions over one WebSocket in one tab, against the live server ticking every `tickMs`. */
export async function measureManySubs(
  ctx: BrowserContext,
  server: ServerChild,
  count: number,
  tickMs: number,
  rounds: number,
): Promise<ManySubsResult> {
  const baseUrl = String(server.info["url"]);
  await ctx.page.open(`${baseUrl}/bench`, ctx.script);
  const heapBeforeBytes = await heapUsed(ctx.page);
  const openMs: number[] = [];
  let messagesPerSecond = Number.NaN;
  let heapOpenBytes = Number.NaN;
  for (let round = 0; round < rounds; round++) {
    const { openMs: ms } = await ctx.page.evaluate<{ openMs: number }>(`weatherBench.subsOpen(${JSON.stringify({ baseUrl, count })})`);
    openMs.push(ms);
    if (round === rounds - 1) {
      const { messages, ms: windowMs } = await ctx.page.evaluate<{ messages: number; ms: number }>("weatherBench.subsCount(3000)");
      messagesPerSecond = (messages / windowMs) * 1000;
      heapOpenBytes = await heapUsed(ctx.page);
    }
    await ctx.page.evaluate("weatherBench.subsClose()");
    // Let the server see the cancels before the next round opens the same number again.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return { subscriptions: count, tickMs, openMs, medianOpenMs: median(openMs), messagesPerSecond, heapBeforeBytes, heapOpenBytes };
}

export function manySubsRows(r: ManySubsResult): Row[] {
  const section = `4. ${fmt(r.subscriptions)} subscriptions over one WebSocket in one tab (live server, tick ${r.tickMs} ms)`;
  const expected = (r.subscriptions * 1000) / r.tickMs;
  const heapDelta = r.heapOpenBytes - r.heapBeforeBytes;
  return [
    {
      section,
      name: "time to open all (first message on each), median",
      value: `${fmt(r.medianOpenMs)} ms`,
      ratio: "",
      target: "< 1000 ms",
      status: check(r.medianOpenMs, "<", 1000),
    },
    { section, name: "messages/s delivered", value: fmt(r.messagesPerSecond), ratio: `of ${fmt(expected)} sent`, target: "", status: "" },
    {
      section,
      name: "JS heap with all open (after GC)",
      value: kib(r.heapOpenBytes),
      ratio: `+${kib(heapDelta)}, ${fmt(heapDelta / r.subscriptions)} B/sub`,
      target: "",
      status: "",
    },
  ];
}
