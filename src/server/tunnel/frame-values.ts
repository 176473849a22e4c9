import { create, toBinary } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import type { ControlFrame, ErrorDetailField, HeaderList } from "../../codec/tunnel/index.js";

type EndFrame = Extract<ControlFrame, { kind: "end" }>;

/**
 * A stream's request headers: its own `open` headers, plus the connection's
 * `hello` headers it does not set itself (a stream's own field wins).
 * @throws TypeError when a name or value is not a valid HTTP field.
 */
export function requestHeaders(hello: HeaderList, open: HeaderList): Headers {
  const header = new Headers();
  for (const [name, value] of open) header.append(name, value);
  if (hello.length === 0) return header;
  const own = new Set(header.keys());
  for (const [name, value] of hello) {
    if (!own.has(name.toLowerCase())) header.append(name, value);
  }
  return header;
}

/** Bytes of a header list's names and values, for the header size limit. */
export function headerListBytes(headers: HeaderList): number {
  let bytes = 0;
  for (const [name, value] of headers) bytes += name.length + value.length;
  return bytes;
}

/** The `end` frame of a stream that finished with `error` (undefined: OK). */
export function endFrame(streamId: number, error: ConnectError | undefined, trailers: HeaderList): EndFrame {
  if (error === undefined) return { kind: "end", streamId, code: 0, message: "", details: [], trailers };
  return {
    kind: "end",
    streamId,
    code: error.code,
    message: error.rawMessage,
    details: error.details.map(detailField),
    trailers,
  };
}

function detailField(detail: ConnectError["details"][number]): ErrorDetailField {
  // Parsed from the wire: already bytes. Raised by a handler: a message to serialize.
  if ("type" in detail) return { type: detail.type, value: detail.value };
  return { type: detail.desc.typeName, value: toBinary(detail.desc, create(detail.desc, detail.value)) };
}
