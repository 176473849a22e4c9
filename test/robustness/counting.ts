// Injected parts that count what a client holds: timers, WebSockets, fetch
// responses not yet finished, lifecycle listeners. They run in Node and in
// Chromium alike, so one check serves both.
import { alwaysActive, type Clock, type PageLifecycle, systemClock } from "../../src/index.js";

/** What a client still holds, by kind. */
export interface Held {
  readonly timers: number;
  readonly webSockets: number;
  readonly fetches: number;
  readonly lifecycleListeners: number;
}

export interface Counting {
  readonly clock: Clock;
  readonly webSocket: typeof WebSocket;
  readonly fetch: typeof fetch;
  readonly lifecycle: PageLifecycle;
  held(): Held;
}

export function createCounting(): Counting {
  const timers = new Set<unknown>();
  const sockets = new Set<WebSocket>();
  let fetches = 0;
  let listeners = 0;

  const clock: Clock = {
    now: () => systemClock.now(),
    setTimeout(fn, delayMs) {
      const handle: unknown = systemClock.setTimeout(() => {
        timers.delete(handle);
        fn();
      }, delayMs);
      timers.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      timers.delete(handle);
      systemClock.clearTimeout(handle);
    },
  };

  class CountingWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.add(this);
      this.addEventListener("close", () => sockets.delete(this));
    }
  }

  const countingFetch: typeof fetch = async (input, init) => {
    fetches++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      fetches--;
    };
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (e) {
      finish();
      throw e;
    }
    const body = response.body;
    if (body === null) {
      finish();
      return response;
    }
    const reader = body.getReader();
    const counted = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const r = await reader.read();
          if (r.done) {
            finish();
            controller.close();
          } else controller.enqueue(r.value);
        } catch (e) {
          finish();
          controller.error(e);
        }
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    });
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  const lifecycle: PageLifecycle = {
    ...alwaysActive,
    subscribe(listener) {
      listeners++;
      const stop = alwaysActive.subscribe(listener);
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        listeners--;
        stop();
      };
    },
  };

  return {
    clock,
    webSocket: CountingWebSocket,
    fetch: countingFetch,
    lifecycle,
    held: () => ({ timers: timers.size, webSockets: sockets.size, fetches, lifecycleListeners: listeners }),
  };
}

export const NOTHING_HELD: Held = { timers: 0, webSockets: 0, fetches: 0, lifecycleListeners: 0 };

/** Resolves once `check` returns true, checking after each turn of the event loop; rejects after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
