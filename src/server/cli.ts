#!/usr/bin/env node
// `npm run server`: the reference server on PORT (default 8080) until SIGTERM or SIGINT.
import { CliUsageError, parseCliOptions } from "./cli-options.js";
import { createWeatherServer } from "./create-weather-server.js";
import { createRedisWeatherSource } from "./redis/redis-source.js";

let options;
try {
  options = parseCliOptions(process.argv.slice(2), process.env);
} catch (e) {
  if (!(e instanceof CliUsageError)) throw e;
  console.error(e.message);
  process.exit(1);
}
const { port, host, tickMs } = options;

// A Redis that is away reports the same error on every reconnect attempt: say it once, then again every 10 s.
let lastLogged = { message: "", atMs: 0 };
function logOncePerOutage(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  if (message === lastLogged.message && Date.now() - lastLogged.atMs < 10_000) return;
  lastLogged = { message, atMs: Date.now() };
  console.error(`redis: ${message}`);
}
const historyWindowMs = 600_000;
let source;
if (options.source.kind === "redis") {
  try {
    source = await createRedisWeatherSource({
      url: options.source.url,
      tickMs: tickMs ?? 1000,
      historyWindowMs,
      onError: logOncePerOutage,
    });
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
const server = createWeatherServer({ tickMs, historyWindowMs, source });
const { url } = await server.listen(port, host).catch((e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE" || code === "EACCES") {
    console.error(`cannot listen on ${host}:${port} (${code}); set PORT to another port, e.g. PORT=8081 npm run server`);
    process.exit(1);
  }
  throw e;
});
console.log(
  `weather-sdk reference server listening on ${url} (readings: ${options.source.kind === "redis" ? `Redis at ${options.source.url}` : "simulated in this process"})`,
);
console.log(`  Connect, gRPC, gRPC-Web: POST ${url}/weather.WeatherService/{Method} (HTTP/1.1 and h2c)`);
console.log(`  WebSocket tunnel:        GET  ${url.replace(/^http/, "ws")}/ws (subprotocol weather-tunnel.v1, all four call modes)`);
console.log(`  Server-Sent Events:      GET, POST ${url}/sse/weather.WeatherService/{GetWeather|SubscribeWeather}`);
console.log(`  health:                  GET  ${url}/healthz`);
console.log('  origins: any (allowedOrigins "*", a development default; list your app\'s origins in production, see SECURITY.md)');

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: ending open streams with Unavailable and shutting down`);
  server.close().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
