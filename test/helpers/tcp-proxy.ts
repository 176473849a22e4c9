import * as net from "node:net";
import { listenOnLoopback, spliceSockets } from "./socket-pair.js";

/** A loopback TCP proxy that a test can use to cut every connection at once, as a flaky network would. */
export interface TcpProxy {
  readonly url: string;
  readonly port: number;
  /** Destroys every open connection (both sides) without a goodbye. */
  dropAll(): number;
  /** While true, new connections are accepted and immediately destroyed (the server seems down). */
  refuse: boolean;
  /** Points the proxy at another backend port (after a server restart). */
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const state = { refuse: false };
  const { server, port, url } = await listenOnLoopback((client) => {
    if (state.refuse) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target, "127.0.0.1");
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    spliceSockets(client, upstream, () => pairs.delete(pair));
  });
  return {
    url,
    port,
    get refuse() {
      return state.refuse;
    },
    set refuse(value: boolean) {
      state.refuse = value;
    },
    dropAll() {
      const n = pairs.size;
      for (const [a, b] of [...pairs]) {
        a.resetAndDestroy();
        b.destroy();
      }
      pairs.clear();
      return n;
    },
    retarget(p) {
      target = p;
    },
    close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
