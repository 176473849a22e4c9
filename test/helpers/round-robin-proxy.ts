import * as net from "node:net";
import { listenOnLoopback, spliceSockets } from "./socket-pair.js";

/**
 * A loopback TCP load balancer: each new connection goes to the next backend
 * in turn, skipping one that refuses the connection, as an ordinary L4
 * balancer with health checks would. No stickiness.
 */
export interface RoundRobinProxy {
  readonly url: string;
  readonly port: number;
  /** How many connections each backend port received. */
  readonly connections: ReadonlyMap<number, number>;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backendPorts: readonly number[]): Promise<RoundRobinProxy> {
  let next = 0;
  const open = new Set<net.Socket>();
  const connections = new Map<number, number>();
  const { server, port, url } = await listenOnLoopback((client) => {
    open.add(client);
    client.once("close", () => open.delete(client));
    client.pause();
    const attempt = (tried: number) => {
      if (tried === backendPorts.length) {
        client.destroy();
        return;
      }
      const port = backendPorts[next++ % backendPorts.length] ?? 0;
      const upstream = net.connect(port, "127.0.0.1");
      const onConnectError = () => attempt(tried + 1);
      upstream.once("error", onConnectError);
      upstream.once("connect", () => {
        upstream.off("error", onConnectError);
        connections.set(port, (connections.get(port) ?? 0) + 1);
        open.add(upstream);
        spliceSockets(client, upstream, () => open.delete(upstream));
        client.resume();
      });
    };
    attempt(0);
  });
  return {
    url,
    port,
    connections,
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
