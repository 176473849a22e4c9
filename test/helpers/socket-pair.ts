import * as net from "node:net";

/**
 * Joins two sockets in both directions; when either side errors or closes,
 * both are destroyed and `onEnd` runs once.
 */
export function spliceSockets(client: net.Socket, upstream: net.Socket, onEnd: () => void = () => {}): void {
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
    client.destroy();
    upstream.destroy();
  };
  client.on("error", end).on("close", end);
  upstream.on("error", end).on("close", end);
  client.pipe(upstream);
  upstream.pipe(client);
}

/** Starts a TCP server on 127.0.0.1, port 0; resolves with it and its `http://` address. */
export async function listenOnLoopback(
  onConnection: (socket: net.Socket) => void,
): Promise<{ server: net.Server; port: number; url: string }> {
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { server, port, url: `http://127.0.0.1:${port}` };
}
