/**
 * Runs a callback after the current turn's I/O callbacks: `setImmediate`
 * where the runtime has it (Node), else a zero-delay timer (browsers). What
 * is queued within one turn goes out together in that callback.
 */
export const afterTurn: (callback: () => void) => unknown =
  typeof setImmediate === "function" ? setImmediate : (callback) => setTimeout(callback, 0);

/**
 * `value` when it is a finite number above 0.
 * @throws RangeError naming the option otherwise.
 */
export function requirePositive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** The host named in request headers, for the URLs handlers see (connect parses them); localhost when it is not a plain host. */
export function requestHost(headers: Headers | undefined): string {
  const host = headers?.get("host");
  return host != null && /^[\w.\-[\]:]+$/.test(host) ? host : "localhost";
}
