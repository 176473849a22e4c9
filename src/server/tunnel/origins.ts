/**
 * Which browser origins may call the server: `"*"` allows any origin (the
 * development default), a list allows exactly those origins
 * (`"https://app.example.com"`, scheme and port included).
 */
export type AllowedOrigins = "*" | readonly string[];

/** True when a request from `origin` (absent for non-browser clients) may proceed. */
export function isOriginAllowed(allowed: AllowedOrigins, origin: string | undefined): boolean {
  return origin === undefined || allowed === "*" || allowed.includes(origin);
}
