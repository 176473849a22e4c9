/** Reads a response body to its end; a body of one chunk is returned as it is, without a copy. */
export async function readAll(body: AsyncIterator<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const r = await body.next();
    if (r.done === true) break;
    chunks.push(r.value);
    length += r.value.length;
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(length);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
