/**
 * Splits a Connect streaming body (5-byte envelope headers: flags, then a
 * big-endian uint32 length) into envelopes, whatever the chunking. Envelopes
 * that lie inside one chunk are handed out as views, without a copy.
 */
export interface EnvelopeSplitter {
  /** Consumes a chunk; calls `onEnvelope` for every envelope it completes. */
  push(chunk: Uint8Array): void;
  /** True when no partial envelope is buffered (the body may end here). */
  readonly idle: boolean;
}

/**
 * Creates a splitter that calls `onEnvelope(flags, data)` in order.
 *
 * @param maxBytes - largest envelope payload accepted; a bigger one throws a
 *   RangeError from `push` (the handler broke its own `writeMaxBytes`).
 */
export function createEnvelopeSplitter(onEnvelope: (flags: number, data: Uint8Array) => void, maxBytes = 0xffff_ffff): EnvelopeSplitter {
  let pending: Uint8Array | undefined;

  function split(bytes: Uint8Array): Uint8Array | undefined {
    let offset = 0;
    while (bytes.length - offset >= 5) {
      const length =
        (bytes[offset + 1] ?? 0) * 0x1000000 +
        (((bytes[offset + 2] ?? 0) << 16) | ((bytes[offset + 3] ?? 0) << 8) | (bytes[offset + 4] ?? 0));
      if (length > maxBytes) throw new RangeError(`envelope of ${length} bytes exceeds ${maxBytes}`);
      if (bytes.length - offset - 5 < length) break;
      onEnvelope(bytes[offset] ?? 0, bytes.subarray(offset + 5, offset + 5 + length));
      offset += 5 + length;
    }
    return offset === bytes.length ? undefined : bytes.slice(offset);
  }

  // `idle` is a plain property, not a getter (see createSseWriter).
  const splitter = {
    push(chunk: Uint8Array): void {
      if (pending === undefined) {
        pending = split(chunk);
      } else {
        const joined = new Uint8Array(pending.length + chunk.length);
        joined.set(pending);
        joined.set(chunk, pending.length);
        pending = split(joined);
      }
      splitter.idle = pending === undefined;
    },
    idle: true,
  };
  return splitter;
}
