// `npm run demo`: the reference server (PORT, default 8080) and the demo page
// (DEMO_PORT, default 5173) served by Vite from demo/, until Ctrl-C or SIGTERM.
// The page is on another origin than the server, as a real app would be.
import { createServer as createHttpServer } from "node:http";
import { fileURLToPath } from "node:url";
import { createServer } from "vite";
import { createWeatherServer } from "../dist/server/index.js";

const host = process.env.HOST ?? "127.0.0.1";
const port = portFrom("PORT", 8080);
const demoPort = portFrom("DEMO_PORT", 5173);

function portFrom(name, fallback) {
  const text = process.env[name] ?? String(fallback);
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number from 0 to 65535 (0 picks a free one), got "${text}"`);
    process.exit(1);
  }
  return value;
}

function refuse(what, listenPort, e) {
  if (e?.code === "EADDRINUSE" || e?.code === "EACCES") {
    console.error(
      `cannot listen on ${host}:${listenPort} for the ${what} (${e.code}); set ${what === "server" ? "PORT" : "DEMO_PORT"} to another port`,
    );
    process.exit(1);
  }
  throw e;
}

const server = createWeatherServer();
const { url } = await server.listen(port, host).catch((e) => refuse("server", port, e));

// index.html reads the server's URL from %VITE_WEATHER_SERVER%.
process.env.VITE_WEATHER_SERVER = url;
// Middleware mode on our own HTTP server: Vite's own listen() would install a
// SIGTERM handler (and one on stdin's end) that exits without stopping ours.
const http = createHttpServer();
const vite = await createServer({
  configFile: false,
  root: fileURLToPath(new URL("../demo/", import.meta.url)),
  clearScreen: false,
  logLevel: "warn",
  appType: "spa",
  server: { middlewareMode: true, hmr: { server: http } },
});
http.on("request", vite.middlewares);
await new Promise((resolve, reject) => {
  http.once("error", (e) => reject(e));
  http.listen(demoPort, host, () => resolve(undefined));
}).catch((e) => refuse("demo page", demoPort, e));
const page = `http://${host}:${http.address().port}/`;

console.log(`weather-sdk demo page:   ${page}`);
console.log(`reference server:        ${url} (WebSocket tunnel at ${url.replace(/^http/, "ws")}/ws, SSE under ${url}/sse/)`);
console.log("Ctrl-C stops both.");

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping the demo page and the server`);
  await vite.close();
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
  await server.close();
  process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
