// Web platform types that appear in the public declarations, spelled out here rather than
// named from the DOM library: a Node project compiled without `"lib": ["DOM"]` has `Headers`
// (from @types/node) but not the DOM's `HeadersInit` or `RequestCredentials`, and the
// declarations must compile there too. Each is assignable to the DOM type of the same role.

/** Request headers in any form `new Headers(init)` takes: a `Headers`, a record, or name/value pairs. */
export type HeadersInput = Headers | Record<string, string> | [string, string][];

/** `fetch`'s `credentials`: whether cookies and HTTP authentication go with a cross-origin request. */
export type CredentialsMode = "omit" | "same-origin" | "include";
