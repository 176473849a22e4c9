/**
 * Request header that asks a server stream to resume: the value is the last
 * cursor the client delivered (for weather readings, their `timestamp` in Unix
 * epoch milliseconds, as decimal digits). The server replays everything after it.
 */
export const RESUME_AFTER_HEADER = "weather-resume-after";

/**
 * Response header a server sets when it honoured a resume request:
 * `recovered` when it replayed everything after the cursor, `gap` when the
 * cursor was older than its history window and readings were skipped.
 */
export const RESUME_STATUS_HEADER = "weather-resume-status";

/** Values of {@link RESUME_STATUS_HEADER}. */
export type ResumeStatus = "recovered" | "gap";

/** Parses a cursor header value; `undefined` when it is not a non-negative integer. */
export function parseCursor(value: string): bigint | undefined {
  return /^\d{1,19}$/.test(value) ? BigInt(value) : undefined;
}
