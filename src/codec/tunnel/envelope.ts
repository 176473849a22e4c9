import { malformed } from "./errors.js";

/** Connect envelope flag: end of stream (never inside tunnel data frames; `end` frames carry status). */
export const FLAG_END_STREAM = 0x02;
/** Bytes of an envelope header: one flag byte and a big-endian uint32 length. */
export const ENVELOPE_HEADER_BYTES = 5;

/**
 * Wraps a serialized message in a Connect envelope (flags 0).
 */
export function envelope(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENVELOPE_HEADER_BYTES + message.length);
  writeEnvelopeHeader(out, 0, 0, message.length);
  out.set(message, ENVELOPE_HEADER_BYTES);
  return out;
}

/** Writes an envelope header (flags, big-endian uint32 length) at `pos`; the caller makes room for five bytes. */
export function writeEnvelopeHeader(buf: Uint8Array, pos: number, flags: number, length: number): void {
  buf[pos] = flags;
  buf[pos + 1] = length >>> 24;
  buf[pos + 2] = (length >>> 16) & 0xff;
  buf[pos + 3] = (length >>> 8) & 0xff;
  buf[pos + 4] = length & 0xff;
}

/** The payload length in the envelope header at `pos` (the caller checks that five bytes are there). */
export function readEnvelopeLength(buf: Uint8Array, pos: number): number {
  return (
    (((buf[pos + 1] as number) << 24) >>> 0) + ((buf[pos + 2] as number) << 16) + ((buf[pos + 3] as number) << 8) + (buf[pos + 4] as number)
  );
}

/**
 * Walks the whole envelopes in `buf[start, end)`, calling `visit` with each
 * one's flags and payload range (no copy).
 * @throws TunnelProtocolError when the range does not end on an envelope boundary.
 */
export function forEachEnvelope(
  buf: Uint8Array,
  start: number,
  end: number,
  visit: (flags: number, payloadStart: number, payloadEnd: number) => void,
): void {
  let pos = start;
  while (pos < end) {
    if (pos + ENVELOPE_HEADER_BYTES > end) throw malformed(`truncated envelope header at byte ${pos}`);
    const length = readEnvelopeLength(buf, pos);
    const payloadStart = pos + ENVELOPE_HEADER_BYTES;
    const payloadEnd = payloadStart + length;
    if (payloadEnd > end) throw malformed(`envelope of ${length} bytes at byte ${pos} runs past its frame`);
    visit(buf[pos] as number, payloadStart, payloadEnd);
    pos = payloadEnd;
  }
}

/** Why the envelopes of a tunnel `data` frame are refused; see {@link walkDataEnvelopes}. */
export type DataEnvelopeFault =
  | { readonly kind: "truncated-header"; readonly at: number }
  | { readonly kind: "flags"; readonly flags: number }
  | { readonly kind: "too-large"; readonly length: number }
  | { readonly kind: "overrun"; readonly length: number };

/**
 * Walks the envelopes of one tunnel `data` frame, `buf[start, end)`, as both
 * peers must read them (PROTOCOL.md §1.5): whole envelopes, flags 0, payloads
 * of at most `maxLength` bytes (checked before the bounds, so an oversized
 * envelope is refused as such even when the frame cuts it). Calls
 * `visit(context, buf, payloadStart, payloadEnd)` for each payload (a view, no
 * copy) until it returns false; `context` saves the caller a closure per frame.
 * Returns the first fault, or undefined when every envelope was whole.
 */
export function walkDataEnvelopes<C>(
  buf: Uint8Array,
  start: number,
  end: number,
  maxLength: number,
  context: C,
  visit: (context: C, buf: Uint8Array, payloadStart: number, payloadEnd: number) => boolean,
): DataEnvelopeFault | undefined {
  let pos = start;
  while (pos < end) {
    if (pos + ENVELOPE_HEADER_BYTES > end) return { kind: "truncated-header", at: pos };
    const flags = buf[pos] as number;
    if (flags !== 0) return { kind: "flags", flags };
    const length = readEnvelopeLength(buf, pos);
    if (length > maxLength) return { kind: "too-large", length };
    const payloadStart = pos + ENVELOPE_HEADER_BYTES;
    const payloadEnd = payloadStart + length;
    if (payloadEnd > end) return { kind: "overrun", length };
    if (!visit(context, buf, payloadStart, payloadEnd)) return undefined;
    pos = payloadEnd;
  }
  return undefined;
}
