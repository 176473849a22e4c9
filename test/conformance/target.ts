// Where the conformance runner points: the server at TUNNEL_URL when it is
// set, otherwise a reference server it starts on port 0. Every case speaks raw
// frames (test/helpers/raw-tunnel.ts) and checks one rule of PROTOCOL.md.
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { createWeatherServer, type WeatherServerOptions } from "../../src/server/index.js";
import { connectRawTunnel, type RawTunnel, type RawTunnelOptions, tunnelUrl } from "../helpers/raw-tunnel.js";

/** The tunnel endpoint under test when it is not the reference server, e.g. `ws://127.0.0.1:8080/ws`. */
export const externalUrl: string | undefined = process.env["TUNNEL_URL"] || undefined;

/**
 * Cases that need the server configured (an authentication hook, small limits,
 * a shutdown) run only against a reference server the runner starts itself.
 */
export const referenceOnly = externalUrl === undefined ? describe : describe.skip;

/**
 * A rule PROTOCOL.md states that the reference server does not keep yet: a
 * `todo` that names the reason, and a real case with `CONFORMANCE_PENDING=1`
 * (it fails until the server changes).
 */
export function pending(reason: string, name: string, fn: () => Promise<void>): void {
  if (process.env["CONFORMANCE_PENDING"] === "1") it(name, fn);
  else it.todo(`${name} [pending: ${reason}]`);
}

/** Starts a reference server on port 0 and returns its tunnel URL. */
export async function startReference(options: WeatherServerOptions = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createWeatherServer({ onError: () => undefined, ...options });
  await server.listen(0);
  return { url: tunnelUrl(server.url), close: () => server.close() };
}

/**
 * The tunnel under test for the current file: `url()` once `beforeAll` ran,
 * `connect()` opens a raw tunnel that is closed after the case.
 */
export function useTarget(options: WeatherServerOptions = {}): {
  url: () => string;
  connect: (options?: RawTunnelOptions) => Promise<RawTunnel>;
} {
  let url = externalUrl;
  let close: (() => Promise<void>) | undefined;
  const open: RawTunnel[] = [];
  beforeAll(async () => {
    if (externalUrl !== undefined) return;
    const reference = await startReference(options);
    url = reference.url;
    close = reference.close;
  });
  afterEach(() => {
    for (const t of open.splice(0)) t.close();
  });
  afterAll(async () => {
    await close?.();
  });
  const target = (): string => {
    if (url === undefined) throw new Error("the conformance target is not ready");
    return url;
  };
  return {
    url: target,
    connect: async (tunnelOptions) => {
      const t = await connectRawTunnel(target(), tunnelOptions);
      open.push(t);
      return t;
    },
  };
}

/** Sends a ping and waits for its pong; returns the pong's index in `t.frames`. Everything sent before it has been handled. */
export async function roundTrip(t: RawTunnel, payload: number): Promise<number> {
  t.send([{ kind: "ping", streamId: 0, payload }]);
  const pong = await t.waitFor(`pong ${payload}`, (f) => f.kind === "pong" && f.payload === payload);
  return t.frames.indexOf(pong);
}
