import type { Transport } from "@connectrpc/connect";
import { transportOpenFailure } from "./open-error.js";

/**
 * A Transport whose code is loaded on first use (`load` usually wraps a
 * dynamic `import()`, which bundlers turn into a chunk of its own): an app
 * whose WebSocket works never downloads the fallbacks. A load that fails
 * (offline, a chunk missing after a deploy) fails the call as a transport
 * that never opened, so the caller falls back; the next call tries again.
 */
export function createLazyTransport(name: string, load: () => Promise<Transport>): Transport {
  let loading: Promise<Transport> | undefined;
  const loaded = (): Promise<Transport> =>
    (loading ??= load().catch((e: unknown) => {
      loading = undefined;
      throw transportOpenFailure(`could not load the ${name} transport: ${String(e)}`);
    }));
  return {
    async unary(method, signal, timeoutMs, header, message, contextValues) {
      return (await loaded()).unary(method, signal, timeoutMs, header, message, contextValues);
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      return (await loaded()).stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };
}
