const encoder = new TextEncoder();

/**
 * Under Node a `Buffer`: a stream converts any other `Uint8Array` it is
 * given into a new `Buffer`, once per write.
 */
const utf8: (text: string) => Uint8Array =
  typeof Buffer === "function" ? (text) => Buffer.from(text, "utf8") : (text) => encoder.encode(text);
const alloc: (length: number) => Uint8Array =
  typeof Buffer === "function" ? (length) => Buffer.allocUnsafe(length) : (length) => new Uint8Array(length);

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
    return (this.utf8 ??= utf8(this.text));
  }

  /** The text as one chunk of a chunked HTTP/1.1 body: its size in hex, CRLF, the bytes, CRLF. */
  get http1Chunk(): Uint8Array {
    if (this.chunk !== undefined) return this.chunk;
    const bytes = this.bytes;
    const head = `${bytes.length.toString(16)}\r\n`;
    const chunk = alloc(head.length + bytes.length + 2);
    for (let i = 0; i < head.length; i++) chunk[i] = head.charCodeAt(i);
    chunk.set(bytes, head.length);
    chunk[chunk.length - 2] = 0x0d;
    chunk[chunk.length - 1] = 0x0a;
    return (this.chunk = chunk);
  }
}
