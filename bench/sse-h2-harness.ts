/**
 * Narrow harness, not part of `npm run bench` (bundle it with the children as bench/run.mjs does): the
 * fan-out row with SSE subscribers over HTTP/1.1 (`SESSIONS` 0) and HTTP/2 (N sessions). `SUBSCRIBERS`
 * equal to `SSE` (2000) measures the SSE subscribers alone, for the CPU of one SSE event.
 */
import { fanoutRows, measureFanout } from "./sections/fanout.js";

const windowMs = Number(process.env["WINDOW_MS"] ?? 15000);
const subscribers = Number(process.env["SUBSCRIBERS"] ?? 20_000);
const sseSubscribers = Number(process.env["SSE"] ?? 2000);
const sessions = (process.env["SESSIONS"] ?? "0,8,20").split(",").map(Number);
const results = [];
for (const sseHttp2Sessions of sessions) {
  results.push(await measureFanout({ windowMs, raw: true, subscribers, connections: 4, sseSubscribers, sseHttp2Sessions }, console.log));
}
for (const row of fanoutRows(results)) console.log(`${row.name.padEnd(90)} ${row.value}  ${row.ratio}`);
