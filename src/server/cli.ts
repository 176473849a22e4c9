#!/usr/bin/env node
// `npm run server`: the reference server on PORT (default 8080) until SIGTERM or SIGINT.
import { createWeatherServer } from "./create-weather-server.js";

const portText = process.env["PORT"] ?? "8080";
const port = Number(portText);
const host = process.env["HOST"] ?? "127.0.0.1";
if (portText.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number from 0 to 65535 (0 picks a free one), got "${portText}"`);
  process.exit(1);
}
const server = createWeatherServer();
const { url } = await server.listen(port, host).catch((e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE" || code === "EACCES") {
    console.error(`cannot listen on ${host}:${port} (${code}); set PORT to another port, e.g. PORT=8081 npm run server`);
    process.exit(1);
  }
  throw e;
});
console.log(`weather-sdk reference server listening on ${url}`);
console.log(`  Connect, gRPC, gRPC-Web: POST ${url}/weather.WeatherService/{Method} (HTTP/1.1 and h2c)`);
console.log(`  WebSocket tunnel:        GET  ${url.replace(/^http/, "ws")}/ws (subprotocol weather-tunnel.v1, all four call modes)`);
console.log(`  Server-Sent Events:      GET, POST ${url}/sse/weather.WeatherService/{GetWeather|SubscribeWeather}`);
console.log(`  health:                  GET  ${url}/healthz`);

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
