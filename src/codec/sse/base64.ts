import { base64Decode } from "@bufbuild/protobuf/wire";

type FromBase64 = (text: string) => Uint8Array;

interface SetFromBase64 {
  setFromBase64(text: string): { read: number; written: number };
}

/** Bytes decoded into one slab before a fresh one is taken. */
const SLAB_BYTES = 64 * 1024;

/**
 * Decodes base64 with the native `Uint8Array.prototype.setFromBase64`
 * (Chromium ≥ 140, Firefox ≥ 133, Safari ≥ 18.2) into views of a shared slab.
 *
 * Why a slab: messages share `ArrayBuffer`s instead of each getting one
 * (`Uint8Array.fromBase64` allocates one, and a JS decoder's small array gets
 * one materialized as soon as `fromBinary` builds its `DataView`), so the
 * per-message cost is the decode alone. A slab region is handed out
 * once and never written again, so views stay valid for as long as anyone
 * holds them (protobuf-es keeps `bytes` fields as views of its input); a
 * retained view keeps its 64 KiB slab alive, no more.
 */
function createSlabDecoder(): FromBase64 {
  // Taken on first use, so importing the module allocates nothing.
  let slab = new Uint8Array(0);
  let used = 0;
  return (text) => {
    const capacity = Math.ceil(text.length / 4) * 3;
    if (capacity > SLAB_BYTES) return decodeWhole(text, capacity);
    if (used + capacity > slab.length) {
      slab = new Uint8Array(SLAB_BYTES);
      used = 0;
    }
    const view = decodeInto(slab.subarray(used), text);
    used += view.length;
    return view;
  };
}

function decodeWhole(text: string, capacity: number): Uint8Array {
  return decodeInto(new Uint8Array(capacity), text);
}

/** Decodes `text` into the start of `target` (which has room for all of it); returns the written part. */
function decodeInto(target: Uint8Array, text: string): Uint8Array {
  const { read, written } = (target as unknown as SetFromBase64).setFromBase64(text);
  if (read !== text.length) throw new SyntaxError("base64 text was not decoded to its end");
  return target.subarray(0, written);
}

const hasNative = typeof (Uint8Array.prototype as Partial<SetFromBase64>).setFromBase64 === "function";

/**
 * Decodes the standard base64 of an SSE message event into bytes. Calls may
 * share it: slab regions are never reused. Runtimes without the native
 * decoder (Node 24 included) use protobuf-es's.
 *
 * @throws SyntaxError on text that is not base64 (only with the native
 *   decoder; protobuf-es's skips unknown characters, and the message parser
 *   then fails).
 */
export const decodeSseBase64: FromBase64 = hasNative ? createSlabDecoder() : base64Decode;
