/**
 * A connection's open streams by id: an open-addressing hash table over two
 * arrays that only ever grow. Not a `Map`: V8 gives a `Map` a new backing
 * table whenever deletes leave it sparse (a connection making one call at a
 * time empties it on every call) and links the old table to the new one.
 *
 * Stream ids are positive and mostly consecutive, so `id & mask` spreads
 * them evenly; collisions probe linearly and deletes shift the run back
 * (no tombstones).
 */
export class StreamTable<T> {
  private ids: number[];
  private streams: (T | undefined)[];
  private mask: number;
  private count = 0;

  constructor(capacity = 16) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(2, capacity)));
    this.ids = new Array<number>(size).fill(0);
    this.streams = new Array<T | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  get(id: number): T | undefined {
    const ids = this.ids;
    for (let i = id & this.mask; ; i = (i + 1) & this.mask) {
      const at = ids[i] as number;
      if (at === id) return this.streams[i];
      if (at === 0) return undefined;
    }
  }

  /** Adds or replaces the stream of `id` (above 0). */
  set(id: number, stream: T): void {
    if (!(id > 0)) throw new RangeError(`stream ids are above 0, got ${id}`);
    if (2 * (this.count + 1) > this.ids.length) this.grow();
    const ids = this.ids;
    let i = id & this.mask;
    for (; ids[i] !== 0; i = (i + 1) & this.mask) {
      if (ids[i] === id) {
        this.streams[i] = stream;
        return;
      }
    }
    ids[i] = id;
    this.streams[i] = stream;
    this.count++;
  }

  delete(id: number): void {
    if (!(id > 0)) return; // 0 marks a free slot: never a stream
    const { ids, streams, mask } = this;
    let i = id & mask;
    for (; ids[i] !== id; i = (i + 1) & mask) {
      if (ids[i] === 0) return;
    }
    // Backward-shift deletion: later entries of the run move into the hole unless their home lies after it.
    let hole = i;
    for (let j = (i + 1) & mask; ids[j] !== 0; j = (j + 1) & mask) {
      const home = (ids[j] as number) & mask;
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      ids[hole] = ids[j] as number;
      streams[hole] = streams[j];
      hole = j;
    }
    ids[hole] = 0;
    streams[hole] = undefined;
    this.count--;
  }

  /** The open streams, as an array (safe to end them while walking it). */
  values(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] !== 0) out.push(this.streams[i] as T);
    return out;
  }

  clear(): void {
    this.ids.fill(0);
    this.streams.fill(undefined);
    this.count = 0;
  }

  private grow(): void {
    const { ids, streams } = this;
    const size = ids.length * 2;
    this.ids = new Array<number>(size).fill(0);
    this.streams = new Array<T | undefined>(size).fill(undefined);
    this.mask = size - 1;
    this.count = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== 0) this.set(ids[i] as number, streams[i] as T);
  }
}
