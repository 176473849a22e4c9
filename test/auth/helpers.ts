import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { PRINCIPAL } from "../../src/server/index.js";

/** The principal tests authenticate as. */
export interface TestUser {
  readonly name: string;
}

/**
 * Accepts `Bearer <name>` for any name but `denied` (PermissionDenied) after
 * an asynchronous check; no header is Unauthenticated. Counts its calls.
 */
export function createTestAuthenticate(): { authenticate: (headers: Headers) => Promise<TestUser>; readonly calls: number } {
  let calls = 0;
  return {
    async authenticate(headers) {
      calls++;
      await Promise.resolve();
      const authorization = headers.get("authorization");
      const match = authorization === null ? null : /^Bearer (\w+)$/.exec(authorization);
      if (match === null || match[1] === undefined) throw new ConnectError("send Authorization: Bearer <token>", Code.Unauthenticated);
      if (match[1] === "denied") throw new ConnectError("this token may not read the weather", Code.PermissionDenied);
      if (match[1] === "expired") throw new ConnectError("the token expired", Code.Unauthenticated);
      return { name: match[1] };
    },
    get calls() {
      return calls;
    },
  };
}

/** Reports the principal the handler saw in `ctx.values` as the response header `x-principal`. */
export const echoPrincipal: Interceptor = (next) => async (req) => {
  const user = req.contextValues.get(PRINCIPAL) as TestUser | undefined;
  const res = await next(req);
  res.header.set("x-principal", user?.name ?? "(none)");
  return res;
};
