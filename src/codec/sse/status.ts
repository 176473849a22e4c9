import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromString, errorFromJson, errorToJson } from "@connectrpc/connect/protocol-connect";

/**
 * The data of the final `end` event as JSON: a Connect error object
 * (`code`, `message`, `details`) whose `code` is `"ok"` for a clean end, plus
 * the call's trailers in `metadata` (Connect's end-stream format:
 * lower-case name → list of values). Absent members are omitted.
 */
export interface SseStatus {
  /** `"ok"`, or a Connect code string such as `"invalid_argument"`. */
  readonly code: string;
  /** The error message; absent for `ok` and for errors without one. */
  readonly message?: string;
  /** Connect error details: `{ type, value (base64), debug? }`. */
  readonly details?: readonly JsonValue[];
  /** The call's trailers. */
  readonly metadata?: Readonly<Record<string, readonly string[]>>;
}

/** What a client learns from an `end` event. */
export interface SseOutcome {
  /** `undefined` for a clean end. */
  readonly error: ConnectError | undefined;
  /** The call's trailers (also the error's metadata). */
  readonly trailer: Headers;
}

/** The status of a clean end, with the call's trailers. */
export function sseStatusOk(trailer?: Headers): SseStatus {
  return withMetadata({ code: "ok" }, trailer);
}

/** The status for an error raised outside a handler (the route's own failures). */
export function sseStatusFromError(error: ConnectError, trailer?: Headers): SseStatus {
  return withMetadata(errorToJson(error, undefined) as unknown as SseStatus, trailer);
}

/**
 * Reshapes a Connect error JSON body (a unary error response) into a status.
 * Anything that is not such a body gives `fallback`.
 */
export function sseStatusFromErrorJson(json: unknown, trailer: Headers, fallback: ConnectError): SseStatus {
  if (!isObject(json) || typeof json["code"] !== "string" || codeFromString(json["code"]) === undefined) {
    return sseStatusFromError(fallback, trailer);
  }
  const status: { code: string; message?: string; details?: JsonValue[] } = { code: json["code"] };
  if (typeof json["message"] === "string") status.message = json["message"];
  if (Array.isArray(json["details"])) status.details = json["details"];
  return withMetadata(status, trailer);
}

/**
 * Reshapes a Connect end-stream message (`{"error":{…},"metadata":{…}}`) into
 * a status; malformed input gives an `internal` status.
 */
export function sseStatusFromEndStream(json: unknown): SseStatus {
  const malformed = new ConnectError("the handler sent a malformed end of stream", Code.Internal);
  if (!isObject(json)) return sseStatusFromError(malformed);
  const metadata = json["metadata"];
  if (metadata !== undefined && !isMetadata(metadata)) return sseStatusFromError(malformed);
  const error = json["error"];
  if (error === undefined || error === null) {
    return metadata === undefined ? { code: "ok" } : { code: "ok", metadata };
  }
  const status = sseStatusFromErrorJson(error, new Headers(), malformed);
  return metadata === undefined ? status : { ...status, metadata };
}

/** The `data:` of an `end` event. */
export function encodeSseStatus(status: SseStatus): string {
  return JSON.stringify(status);
}

/**
 * Parses the data of an `end` event. A non-`ok` status becomes a
 * `ConnectError` with its code, message, details and the trailers as metadata.
 *
 * @throws ConnectError `internal` when the data is not a valid status.
 */
export function parseSseStatus(data: string): SseOutcome {
  const malformed = new ConnectError(`malformed SSE status event: ${data.slice(0, 200)}`, Code.Internal);
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw malformed;
  }
  if (!isObject(json) || typeof json["code"] !== "string") throw malformed;
  const trailer = new Headers();
  const metadata = json["metadata"];
  if (metadata !== undefined) {
    if (!isMetadata(metadata)) throw malformed;
    try {
      for (const [name, values] of Object.entries(metadata)) {
        for (const value of values) trailer.append(name, value);
      }
    } catch {
      throw malformed;
    }
  }
  if (json["code"] === "ok") return { error: undefined, trailer };
  if (codeFromString(json["code"]) === undefined) throw malformed;
  const { metadata: _metadata, ...errorJson } = json;
  return { error: errorFromJson(errorJson as JsonObject, trailer, malformed), trailer };
}

function withMetadata<T extends SseStatus>(status: T, trailer: Headers | undefined): T {
  if (trailer === undefined) return status;
  const metadata: Record<string, string[]> = {};
  trailer.forEach((value, name) => (metadata[name] ??= []).push(value));
  return Object.keys(metadata).length > 0 ? { ...status, metadata } : status;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isMetadata(value: unknown): value is Record<string, string[]> {
  return isObject(value) && Object.values(value).every((values) => Array.isArray(values) && values.every((v) => typeof v === "string"));
}
