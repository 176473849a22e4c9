/**
 * Objects and bytes by class between two heap snapshots: what each
 * subscription adds to the heap. A snapshot is taken with `v8.getHeapSnapshot()`
 * (after a full GC) and read into counts and self sizes per (node type, name).
 */
import { getHeapSnapshot } from "node:v8";

/** Objects of one class: how many and their own size in bytes (not what they point to). */
export interface ClassTally {
  count: number;
  selfBytes: number;
}

interface SnapshotJson {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[], ...unknown[]] } };
  readonly nodes: number[];
  readonly strings: string[];
}

/** Counts and self sizes by class of the live heap now (run a full GC first). */
export async function heapClasses(): Promise<Map<string, ClassTally>> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SnapshotJson;
  const fields = json.snapshot.meta.node_fields;
  const types = json.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const tally = new Map<string, ClassTally>();
  const { nodes, strings } = json;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt] ?? 0] ?? "?";
    let name = type === "object" || type === "closure" || type === "native" ? (strings[nodes[i + nameAt] ?? 0] ?? "?") : `(${type})`;
    if (type === "closure") name = `closure ${name}`;
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const entry = tally.get(name);
    const size = nodes[i + sizeAt] ?? 0;
    if (entry === undefined) tally.set(name, { count: 1, selfBytes: size });
    else {
      entry.count++;
      entry.selfBytes += size;
    }
  }
  return tally;
}

/** Classes that grew from `before` to `after`, per `per` subscriptions, largest first. */
export function perSubscription(
  before: Map<string, ClassTally>,
  after: Map<string, ClassTally>,
  per: number,
): { name: string; objects: number; bytes: number }[] {
  const rows: { name: string; objects: number; bytes: number }[] = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? { count: 0, selfBytes: 0 };
    const objects = (a.count - b.count) / per;
    const bytes = (a.selfBytes - b.selfBytes) / per;
    if (bytes >= 4 || objects >= 0.5) rows.push({ name, objects, bytes });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}
