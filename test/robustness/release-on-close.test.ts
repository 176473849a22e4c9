// Closing a subscription or a client releases everything it held: the
// client's timers, sockets, fetch bodies and lifecycle listeners (counted
// through injected parts), every handle of the process (Node's own count,
// server side included: both ends run here), and the server's calls.
import type { Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWeatherClient, type TransportKind } from "../../src/index.js";
import type { WeatherServer } from "../../src/server/index.js";
import { startServer } from "../helpers/server.js";
import { createCounting, eventually, NOTHING_HELD } from "./counting.js";
import { clientLetGo, closeThreeWays, openThreeSubscriptions } from "./release-scenario.js";

let server: WeatherServer & { url: string };
let openCalls = 0;

/** Counts the server's calls in progress: a stream counts until its handler's output is done or abandoned. */
const countCalls: Interceptor = (next) => async (req) => {
  openCalls++;
  let res: Awaited<ReturnType<typeof next>>;
  try {
    res = await next(req);
  } catch (e) {
    openCalls--;
    throw e;
  }
  if (!res.stream) {
    openCalls--;
    return res;
  }
  const message = res.message;
  return {
    ...res,
    message: (async function* () {
      try {
        yield* message;
      } finally {
        openCalls--;
      }
    })(),
  };
};

/** Handles of the process by kind, for the kinds a client or a connection can leave behind. */
function handles(): { sockets: number; timers: number } {
  const out = { sockets: 0, timers: 0 };
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === "TCPSocketWrap") out.sockets++;
    else if (kind === "Timeout") out.timers++;
  }
  return out;
}

beforeAll(async () => {
  server = await startServer({ tickMs: 20, interceptors: [countCalls], sseKeepaliveMs: 1000 });
});
afterAll(() => server.close());

const TRANSPORTS: readonly TransportKind[] = ["websocket", "connect", "grpc-web", "sse"];

describe.each(TRANSPORTS)("over %s", (transport) => {
  it("closing its subscriptions and then the client leaves no timer, socket, body, listener or server call behind", async () => {
    const before = handles();
    const scenario = await openThreeSubscriptions(server.url, transport);
    expect(openCalls).toBe(3);
    expect(scenario.counting.held().lifecycleListeners).toBe(3);

    // One closed by close(), one by leaving a for-await loop, one by the client.
    await closeThreeWays(scenario, () => eventually("two server calls to end", () => openCalls === 1));

    await eventually("the server's calls to end", () => openCalls === 0);
    await clientLetGo(scenario);
    // Sockets of HTTP requests the client aborted linger a few seconds in the HTTP stack (keep-alive), then go.
    await eventually("the process's sockets and timers to be back to where they were", () => {
      const now = handles();
      return now.sockets <= before.sockets && now.timers <= before.timers;
    });
    expect(scenario.subs.map((s) => s.state.kind)).toEqual(["closed", "closed", "closed"]);
  });
});

it("a unary call on the tunnel leaves only the idle connection, which client.close() releases", async () => {
  const counting = createCounting();
  const weather = createWeatherClient({
    baseUrl: server.url,
    transports: ["websocket"],
    clock: counting.clock,
    webSocket: counting.webSocket,
    lifecycle: counting.lifecycle,
  });
  await weather.getWeather({ cityCode: "NYC" });
  expect(counting.held().webSockets).toBe(1);
  weather.close();
  await eventually("the WebSocket to close and its timers to stop", () => JSON.stringify(counting.held()) === JSON.stringify(NOTHING_HELD));
});
