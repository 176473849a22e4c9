import { base64Decode } from "@bufbuild/protobuf/wire";

type FromBase64 = (text: string) => Uint8Array;

// Native in Chromium ≥ 140, Firefox ≥ 133 and Safari ≥ 18.2; several times
// faster than a JS decoder. Older runtimes (Node 24 included) use protobuf-es's.
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;

/**
 * Decodes the standard base64 of an SSE message event into bytes.
 *
 * @throws Error on text that is not base64 (only with the native decoder;
 *   protobuf-es's skips unknown characters, and the message parser then fails).
 */
export const decodeSseBase64: FromBase64 =
  nativeFromBase64 === undefined ? base64Decode : (text) => nativeFromBase64.call(Uint8Array, text);
