/**
 * UTF-8 for the short strings of control frames (paths, header fields,
 * status messages), written in place: cheaper than a `TextEncoder` call and
 * an array per string. Lone surrogates become U+FFFD, as `TextEncoder` does.
 */

/** Bytes `value` takes in UTF-8. */
export function utf8Length(value: string): number {
  const n = value.length;
  let length = n;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      length += 1;
    } else if (isHighSurrogate(c) && i + 1 < n && isLowSurrogate(value.charCodeAt(i + 1))) {
      length += 2; // two UTF-16 units, four bytes
      i++;
    } else {
      length += 2; // three bytes, lone surrogates included (as U+FFFD)
    }
  }
  return length;
}

/** Writes `value` as UTF-8 at `pos`; returns the position after it. */
export function writeUtf8(out: Uint8Array, pos: number, value: string): number {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) {
      out[pos++] = c;
    } else if (c < 0x800) {
      out[pos++] = 0xc0 | (c >> 6);
      out[pos++] = 0x80 | (c & 0x3f);
    } else if (isHighSurrogate(c) && i + 1 < n && isLowSurrogate(value.charCodeAt(i + 1))) {
      c = 0x10000 + ((c - 0xd800) << 10) + (value.charCodeAt(++i) - 0xdc00);
      out[pos++] = 0xf0 | (c >> 18);
      out[pos++] = 0x80 | ((c >> 12) & 0x3f);
      out[pos++] = 0x80 | ((c >> 6) & 0x3f);
      out[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      out[pos++] = 0xe0 | (c >> 12);
      out[pos++] = 0x80 | ((c >> 6) & 0x3f);
      out[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
