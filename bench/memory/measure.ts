/**
 * Bytes of server heap per subscription: heap after GC with `count`
 * subscriptions open and readings flowing, minus before, over `count`.
 * Needs `gc` (run Node with `--expose-gc`).
 */
import { type ClassTally, heapClasses, perSubscription } from "./heap-classes.js";
import { type ManualClock, type MemoryServer, startMemoryServer, type Subscriptions } from "./subscription-memory.js";

export type MemoryKind = "tunnel" | "sse";

export interface MemoryMeasure {
  readonly kind: MemoryKind;
  readonly count: number;
  readonly connections: number;
  /** Heap after GC with the subscriptions minus without, per subscription. */
  readonly bytesPerSubscription: number;
  /** The same for RSS (noisier: the allocator keeps pages). */
  readonly rssPerSubscription: number;
  /** Messages received while the subscriptions were measured (readings were flowing). */
  readonly delivered: number;
  /** With `classes`: objects and bytes per subscription by class, largest first. */
  readonly classes?: readonly { readonly name: string; readonly objects: number; readonly bytes: number }[];
}

/** Full GCs until the heap stops shrinking. */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --expose-gc");
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 1024) return used;
    last = used;
  }
  return last;
}

/** Options of {@link measureSubscriptionMemory}. */
export interface MeasureOptions {
  /** Also tally the growth by class from heap snapshots (slow for large counts). */
  readonly classes?: boolean;
  /** Drive ticks by hand (tests); default the system clock. */
  readonly clock?: ManualClock;
}

/** Lets `n` ticks pass, at most about a second of them on the system clock (an idle run ticks once an hour). */
async function ticks(server: MemoryServer, n: number, tickMs: number, manual: boolean): Promise<void> {
  const count = manual ? n : Math.min(n, Math.max(1, Math.floor(1000 / tickMs)));
  if (!manual && tickMs > 1000) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return;
  }
  for (let i = 0; i < count; i++) await server.tick();
}

/** Opens the subscriptions of `kind` on `server`. */
export function open(server: MemoryServer, kind: MemoryKind, count: number, connections: number): Promise<Subscriptions> {
  return kind === "tunnel" ? server.openTunnel(count, connections) : server.openSse(count);
}

/** Measures `count` subscriptions of `kind` on a fresh in-process server ticking every `tickMs`. */
export async function measureSubscriptionMemory(
  kind: MemoryKind,
  count: number,
  connections: number,
  tickMs: number,
  options: MeasureOptions = {},
): Promise<MemoryMeasure> {
  const { classes = false, clock } = options;
  const manual = clock !== undefined;
  const server = startMemoryServer(tickMs, clock);
  try {
    // Warm up: the first subscriptions make the shared state (code, cities, encodings) that later ones reuse.
    const warm = await open(server, kind, 100, 1);
    await ticks(server, 2, tickMs, manual);
    warm.close();
    await ticks(server, 1, tickMs, manual);
    const heap0 = heapAfterGc();
    const rss0 = process.memoryUsage().rss;
    const classes0: Map<string, ClassTally> | undefined = classes ? await heapClasses() : undefined;
    const subs = await open(server, kind, count, connections);
    const before = subs.delivered();
    // A few ticks: readings flow (busy), or nothing arrives after the first (idle).
    await ticks(server, 3, tickMs, manual);
    const heap1 = heapAfterGc();
    const rss1 = process.memoryUsage().rss;
    const delivered = subs.delivered() - before;
    const classRows = classes0 === undefined ? undefined : perSubscription(classes0, await heapClasses(), count);
    subs.close();
    return {
      kind,
      count,
      connections,
      bytesPerSubscription: (heap1 - heap0) / count,
      rssPerSubscription: (rss1 - rss0) / count,
      delivered,
      ...(classRows === undefined ? {} : { classes: classRows }),
    };
  } finally {
    await server.close();
  }
}
