import { check, type Row } from "../report.js";
import type { StreamPath } from "../shared.js";
import { fmt } from "../stats.js";
import { type LiveWire, WIRE_PATHS } from "./live.js";
import { STREAM_PATHS, type ThroughputResult } from "./throughput.js";

const TUNNEL_PATHS: ReadonlySet<StreamPath> = new Set(["sub-onmessage", "sub-forawait", "tunnel-client"]);
/** Paths whose wire bytes are the same as another's (same server answer); listed once. */
const SAME_WIRE: ReadonlySet<StreamPath> = new Set(["sub-forawait", "tunnel-client", "sse-sub-onmessage"]);

/** Row 3: bytes per message over the bare protobuf payload, on the replay server (same bytes for all) and through the live server. */
export function wireRows(throughput: ThroughputResult, count: number, live: readonly LiveWire[]): Row[] {
  const section = "3. Wire bytes per message over the bare protobuf payload (server → client; client → server in brackets)";
  const bare = throughput.payloadBytes / count;
  const rows: Row[] = [];
  for (const p of throughput.paths) {
    if (SAME_WIRE.has(p.path)) continue;
    const label = STREAM_PATHS.find((s) => s.path === p.path)?.label ?? p.path;
    const overhead = p.downBytes / count - bare;
    const tunnel = TUNNEL_PATHS.has(p.path);
    rows.push({
      section,
      name: `replay: ${label.replace(/: subscription onMessage$/, "")}`,
      value: `+${fmt(overhead, 2)} B`,
      ratio: `(${fmt(p.upBytes / count, 3)} B up)`,
      target: tunnel ? "≤ 8 B" : "",
      status: tunnel ? check(overhead, "<=", 8) : "",
    });
  }
  for (const w of live) {
    const overhead = (w.downBytes - w.bareBytes) / w.count;
    const tunnel = TUNNEL_PATHS.has(w.path);
    rows.push({
      section,
      name: `live server: ${WIRE_PATHS.find((p) => p.path === w.path)?.label ?? w.path} (${fmt(w.count)} msgs, ${fmt(w.bareBytes / w.count, 1)} B bare)`,
      value: `+${fmt(overhead, 2)} B`,
      ratio: `(${fmt(w.upBytes / w.count, 3)} B up)`,
      target: tunnel ? "≤ 8 B" : "",
      status: tunnel ? check(overhead, "<=", 8) : "",
    });
  }
  return rows;
}
