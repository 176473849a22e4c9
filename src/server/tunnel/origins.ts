/**
 * Which browser origins may call the server: `"*"` allows any origin (the
 * development default), a list allows exactly those origins
 * (`"https://app.example.com"`, scheme and port included).
 */
export type AllowedOrigins = "*" | readonly string[];

/**
 * True when a request from `origin` may proceed. A request without `Origin`
 * proceeds: browsers always send it on a WebSocket upgrade and on
 * cross-origin requests, so its absence marks a non-browser client (or a
 * same-origin GET), which no page can make on a user's behalf. The opaque
 * origin `"null"` (sandboxed frames, `file:` pages, some redirects) is
 * never allowed, not even by `"*"`: anyone can produce it.
 */
export function isOriginAllowed(allowed: AllowedOrigins, origin: string | undefined): boolean {
  if (origin === undefined) return true;
  if (origin === "null") return false;
  return allowed === "*" || allowed.includes(origin);
}
