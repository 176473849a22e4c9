const encoder = new TextEncoder();

/**
 * UTF-8 of `before` and `text`, with `after` bytes of room after them for
 * the caller to fill. Under Node a
 * `Buffer`: a stream converts any other `Uint8Array` it is given into a new
 * `Buffer`, once per write.
 */
function utf8(text: string, before: string, after: number): Uint8Array {
  if (typeof Buffer === "function") {
    const head = Buffer.byteLength(before);
    const body = Buffer.byteLength(text);
    const out = Buffer.allocUnsafe(head + body + after);
    out.write(before, 0);
    out.write(text, head);
    return out;
  }
  const head = encoder.encode(before);
  const body = encoder.encode(text);
  const out = new Uint8Array(head.length + body.length + after);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/**
 * Event text that many responses send as it is: a reading fanned out to
 * every SSE subscriber of its city. Its UTF-8 bytes, and its form as one
 * HTTP/1.1 chunk, are made once, by the first response that asks, and
 * written to every response from the same memory (a socket or stream only
 * reads what it is given).
 */
export class SharedSseText {
  private utf8: Uint8Array | undefined;
  private chunk: Uint8Array | undefined;

  constructor(readonly text: string) {}

  /** The text in UTF-8. */
  get bytes(): Uint8Array {
    return (this.utf8 ??= utf8(this.text, "", 0));
  }

  /** The text as one chunk of a chunked HTTP/1.1 body: its size in hex, CRLF, the bytes, CRLF. */
  get http1Chunk(): Uint8Array {
    if (this.chunk !== undefined) return this.chunk;
    const chunk = utf8(this.text, `${this.bytes.length.toString(16)}\r\n`, 2);
    chunk[chunk.length - 2] = 0x0d;
    chunk[chunk.length - 1] = 0x0a;
    return (this.chunk = chunk);
  }
}
