import { createRedisWeatherSource, createWeatherServer } from "../../src/server/index.js";

/** A reference server whose readings live in Redis Streams (one of several instances on the same Redis). */
export interface RedisBackedServer {
  readonly url: string;
  redisCommands(): number;
  close(): Promise<void>;
}

export async function startRedisServer(tickMs: number, historyWindowMs: number, redisUrl: string): Promise<RedisBackedServer> {
  const source = await createRedisWeatherSource({ url: redisUrl, tickMs, historyWindowMs });
  const server = createWeatherServer({ tickMs, historyWindowMs, source, onError: () => undefined });
  const { url } = await server.listen(0);
  return {
    url,
    redisCommands: () => source.commands.append + source.commands.follow + source.commands.lease + source.commands.replay,
    close: () => server.close(),
  };
}
