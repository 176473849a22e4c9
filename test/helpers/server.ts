import { createWeatherServer, type WeatherServer, type WeatherServerOptions } from "../../src/server/index.js";

/** A real reference server on a free port; `close()` it in `afterAll`/`afterEach`. */
export async function startServer(options: WeatherServerOptions = {}): Promise<WeatherServer & { url: string }> {
  const server = createWeatherServer({ onError: () => undefined, ...options });
  await server.listen(0);
  return server;
}
