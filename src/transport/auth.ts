import type { Interceptor } from "@connectrpc/connect";
import type { HeaderList } from "../codec/tunnel/index.js";
import type { HeadersInput } from "../fetch-types.js";

/** Credentials: a string is a bearer token (`Authorization: Bearer <token>`); headers are sent as they are. */
export type AuthCredentials = string | HeadersInput;

/** What an auth provider is told when it is asked. */
export interface AuthRequest {
  /**
   * True when the server has just refused the credentials this provider gave
   * last (`Unauthenticated`): return fresh ones (refresh the token), not a
   * cached copy. Returning the same credentials again closes a subscription.
   */
  readonly refresh: boolean;
}

/** The `auth` option: fixed credentials, or a provider asked for every new request and connection. */
export type AuthOption = AuthCredentials | ((request: AuthRequest) => AuthCredentials | Promise<AuthCredentials>);

/**
 * Where a client's credentials come from: asked for each HTTP request and
 * each new tunnel connection, and asked again after the server refused them.
 */
export interface AuthSource {
  /** Credentials as header fields (lower-case names) for a new request or connection. */
  headers(): HeaderList | Promise<HeaderList>;
  /** Goes up each time a refresh produced different credentials. */
  readonly version: number;
  /**
   * The server refused credentials of `version`: resolves true at once if
   * they were replaced since; else asks the provider again with
   * `refresh: true` (one question for any number of callers at a time) and
   * resolves true when it gave different ones (the next {@link headers}
   * call returns them), false when it could not (fixed credentials, the same
   * ones again, or the provider failed).
   */
  refresh(version: number): Promise<boolean>;
}

/** Creates the {@link AuthSource} of an `auth` option. */
export function createAuthSource(option: AuthOption): AuthSource {
  if (typeof option !== "function") {
    const fixed = credentialHeaders(option);
    return { headers: () => fixed, version: 0, refresh: () => Promise.resolve(false) };
  }
  /** The key of the credentials handed out last, to tell whether a refresh changed anything. */
  let lastKey: string | undefined;
  /** Credentials a refresh produced, handed out by the next `headers()` instead of asking again. */
  let fresh: HeaderList | undefined;
  let version = 0;
  let refreshing: Promise<boolean> | undefined;
  const ask = async (refresh: boolean): Promise<HeaderList> => credentialHeaders(await option({ refresh }));
  const refreshNow = async (): Promise<boolean> => {
    let list: HeaderList;
    try {
      list = await ask(true);
    } catch {
      return false;
    }
    const key = keyOf(list);
    if (key === lastKey) return false;
    lastKey = key;
    fresh = list;
    version++;
    return true;
  };
  return {
    get version() {
      return version;
    },
    headers() {
      if (fresh !== undefined) {
        const list = fresh;
        fresh = undefined;
        return list;
      }
      return ask(false).then((list) => {
        lastKey = keyOf(list);
        return list;
      });
    },
    refresh(since) {
      if (since !== version) return Promise.resolve(true);
      return (refreshing ??= refreshNow().finally(() => (refreshing = undefined)));
    },
  };
}

/**
 * A client interceptor that adds the credentials to every call (Connect,
 * gRPC-Web, SSE); a call's own header of the same name wins.
 */
export function authInterceptor(source: AuthSource): Interceptor {
  return (next) => async (req) => {
    for (const [name, value] of await source.headers()) {
      if (!req.header.has(name)) req.header.set(name, value);
    }
    return next(req);
  };
}

function credentialHeaders(credentials: AuthCredentials): HeaderList {
  if (typeof credentials === "string") return [["authorization", `Bearer ${credentials}`]];
  const list: [string, string][] = [];
  new Headers(credentials).forEach((value, name) => list.push([name, value]));
  return list;
}

function keyOf(list: HeaderList): string {
  return JSON.stringify(list);
}
