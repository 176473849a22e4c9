import { Code, ConnectError, type ContextValues, createContextKey, createContextValues, type Interceptor } from "@connectrpc/connect";

/**
 * Checks a request's credentials and says who is calling. It gets the
 * request headers: on Connect, gRPC and gRPC-Web the HTTP request's, on the
 * WebSocket tunnel the `hello` frame's (and a stream's own, see PROTOCOL.md
 * §1.3), on SSE the request's (or none, for a `GET` with a ticket).
 *
 * Return (or resolve with) the principal, any value your handlers read back
 * with `ctx.values.get(PRINCIPAL)`. Refuse with a `ConnectError` (thrown,
 * rejected or returned): `Code.Unauthenticated` for missing or bad
 * credentials, `Code.PermissionDenied` for a caller that may not use this
 * server. Another `ConnectError` keeps its code (e.g. `Unavailable` while an
 * identity provider is down, which clients retry); anything else thrown is
 * `Unauthenticated`.
 */
export type Authenticate = (requestHeaders: Headers) => unknown;

/**
 * The context key under which handlers find the principal that
 * `authenticate` returned for their call: `ctx.values.get(PRINCIPAL)`.
 * `undefined` when the server has no `authenticate` hook. Cast it to your
 * principal's type.
 */
export const PRINCIPAL = createContextKey<unknown>(undefined, { description: "weather-sdk: the authenticated principal" });

/** Set once a transport authenticated the call itself, so the interceptor does not check it again. */
const AUTHENTICATED = createContextKey<boolean>(false, { description: "weather-sdk: the call is authenticated" });

/**
 * Runs `authenticate` and normalizes its outcome: the principal, or a
 * rejection with a `ConnectError` (see {@link Authenticate} for the codes).
 */
export async function authenticateHeaders(authenticate: Authenticate, requestHeaders: Headers): Promise<unknown> {
  let principal: unknown;
  try {
    principal = await authenticate(requestHeaders);
  } catch (e) {
    throw authError(e);
  }
  if (principal instanceof ConnectError) throw principal;
  return principal;
}

/** A refusal by `authenticate` as the `ConnectError` the caller gets. */
export function authError(e: unknown): ConnectError {
  return e instanceof ConnectError ? e : ConnectError.from(e, Code.Unauthenticated);
}

/**
 * Context values for a call the transport already authenticated (a tunnel
 * stream on its connection's `hello`, an SSE request with a ticket): handlers
 * see `principal`, and {@link createAuthInterceptor} lets the call through.
 */
export function authenticatedValues(principal: unknown, values: ContextValues = createContextValues()): ContextValues {
  values.set(PRINCIPAL, principal);
  values.set(AUTHENTICATED, true);
  return values;
}

/**
 * A server interceptor that authenticates every call on its request headers
 * before the handler runs, and puts the principal in `ctx.values` under
 * {@link PRINCIPAL}; a refusal ends the call with the error's code
 * (`Unauthenticated`: HTTP 401 on Connect, `grpc-status: 16` on gRPC and
 * gRPC-Web, an `end` with code 16 on the tunnel and SSE). Calls a transport
 * authenticated itself ({@link authenticatedValues}) pass untouched.
 * `createWeatherServer({ authenticate })` installs it first; install it
 * yourself when you build a router for `createTunnelHandler` or
 * `createWeatherFetchHandler`.
 */
export function createAuthInterceptor(authenticate: Authenticate): Interceptor {
  return (next) => async (req) => {
    const values = req.contextValues;
    if (!values.get(AUTHENTICATED)) {
      values.set(PRINCIPAL, await authenticateHeaders(authenticate, req.header));
      values.set(AUTHENTICATED, true);
    }
    return next(req);
  };
}
