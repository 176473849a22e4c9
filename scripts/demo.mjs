// `npm run demo`: one process tree, stopped as one by SIGTERM or SIGINT (Ctrl-C).
//   - builds dist/ only when it is stale (scripts/build.mjs);
//   - the reference server (scripts/demo-server.mjs) as a child process on an internal port,
//     so "server down for N seconds" can kill it and start it again;
//   - a fault proxy on PORT (default 8080) in front of it: the server URL the page uses;
//   - the page (Vite, from demo/) on DEMO_PORT (default 5173), another origin than the server,
//     with the dev-only controls under /__demo/ on the same origin as the page.
// TICK_MS (default 250) and HISTORY_MS (default 600000) set the server's tick and replay window.
// `npm run demo -- --mocked`: no server, no proxy; the page mocks the server itself with
// weather-sdk/testing on msw (demo/mocked-backend.ts), and its network panel drives the kit's faults.
import { fork } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { clearTimeout, setInterval, setTimeout } from "node:timers";
import { fileURLToPath } from "node:url";
import { build, isFresh } from "./build.mjs";
import { createFaultProxy } from "./demo-proxy.mjs";

const mocked = process.argv.includes("--mocked");
const host = process.env.HOST ?? "127.0.0.1";
const port = numberFrom("PORT", 8080, 65535);
const demoPort = numberFrom("DEMO_PORT", 5173, 65535);
const tickMs = numberFrom("TICK_MS", 250, 60_000) || 250;
const historyMs = numberFrom("HISTORY_MS", 600_000, 86_400_000) || 600_000;
const MAX_DOWN_SECONDS = 60;

function numberFrom(name, fallback, max) {
  const text = process.env[name] ?? String(fallback);
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < 0 || value > max) {
    console.error(`${name} must be a whole number from 0 to ${max}, got "${text}"`);
    process.exit(1);
  }
  return value;
}

if (isFresh()) console.log("dist/ is up to date");
else {
  console.log("building dist/ …");
  try {
    build();
  } catch (e) {
    console.error(`build failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}

// ---- the reference server, a child process --------------------------------------------------
let upstream; // { host, port } while the server is up
let upstreamPort = 0; // 0 until the first start picked one; restarts reuse it
let child;
let downUntil = 0;
let restartTimer;
let stopping = false;
/** The server process being stopped on purpose ("server down", shutdown): its exit is no crash. */
let stoppedOnPurpose;

function startServer() {
  return new Promise((resolve, reject) => {
    const started = fork(fileURLToPath(new URL("./demo-server.mjs", import.meta.url)), [], {
      env: { ...process.env, PORT: String(upstreamPort), TICK_MS: String(tickMs), HISTORY_MS: String(historyMs) },
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    child = started;
    let listened = false;
    started.once("message", ({ url }) => {
      const address = new URL(url);
      upstreamPort = Number(address.port);
      upstream = { host: address.hostname, port: upstreamPort };
      listened = true;
      resolve();
    });
    started.once("exit", (code, signal) => {
      if (child === started) {
        child = undefined;
        upstream = undefined;
      }
      if (!listened) {
        reject(new Error(`the reference server exited (${code ?? signal}) before it listened`));
        return;
      }
      if (stopping || stoppedOnPurpose === started) return;
      // Killed or crashed from outside: say so, and bring it back as "server down" does (the page resumes).
      console.error(`the reference server exited (${signal ?? `code ${code}`}); starting it again in 1 s`);
      clearTimeout(restartTimer);
      restartTimer = setTimeout(restartServer, 1000);
    });
  });
}

/** Starts the server again after it went down, and says so with its new PID. */
function restartServer() {
  if (stopping) return;
  startServer().then(
    () => {
      downUntil = 0;
      console.log(`reference server started again: pid ${child?.pid} on port ${upstreamPort}`);
    },
    (e) => console.error(`could not restart the reference server: ${e.message}`),
  );
}

function stopServer() {
  const running = child;
  if (running === undefined) return Promise.resolve();
  stoppedOnPurpose = running;
  upstream = undefined;
  return new Promise((resolve) => {
    running.once("exit", () => resolve());
    running.kill("SIGKILL"); // a crash, not a graceful shutdown: what "server down" shows
  });
}

async function takeServerDown(seconds) {
  clearTimeout(restartTimer);
  downUntil = Date.now() + seconds * 1000;
  await stopServer();
  proxy.dropAll();
  restartTimer = setTimeout(restartServer, seconds * 1000);
}

// ---- the fault proxy ----------------------------------------------------------------------------
const proxy = createFaultProxy(() => upstream);

function refuse(what, variable, listenPort, e) {
  if (e?.code === "EADDRINUSE" || e?.code === "EACCES") {
    console.error(`cannot listen on ${host}:${listenPort} for the ${what} (${e.code}); set ${variable} to another port`);
    return shutdown(1);
  }
  throw e;
}

function listen(server, listenPort) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, host, () => resolve(server.address().port));
  });
}

// ---- the page and its controls -------------------------------------------------------------
const http = createHttpServer();
let vite;

function status() {
  return {
    serverUp: upstream !== undefined,
    downForMs: Math.max(0, downUntil - Date.now()),
    webSocketBlocked: proxy.faults.webSocketBlocked,
    latencyMs: proxy.faults.latencyMs,
    connections: proxy.connections,
    tickMs,
    historyMs,
  };
}

/** The dev-only controls: JSON in, JSON out, same origin as the page. */
async function control(req, res) {
  const url = new URL(req.url ?? "/", "http://demo");
  let body = {};
  if (req.method === "POST") {
    let text = "";
    for await (const chunk of req) text += chunk;
    try {
      body = text === "" ? {} : JSON.parse(text);
    } catch {
      return answer(res, 400, { error: "the body must be JSON" });
    }
  }
  switch (`${req.method} ${url.pathname}`) {
    case "GET /__demo/status":
      return answer(res, 200, status());
    case "POST /__demo/drop":
      return answer(res, 200, { dropped: proxy.dropAll(), ...status() });
    case "POST /__demo/websocket":
      proxy.faults.webSocketBlocked = body.blocked === true;
      if (proxy.faults.webSocketBlocked) proxy.dropWebSockets();
      return answer(res, 200, status());
    case "POST /__demo/latency": {
      const ms = Number(body.ms);
      if (!Number.isInteger(ms) || ms < 0 || ms > 10_000) return answer(res, 400, { error: "ms must be a whole number from 0 to 10000" });
      proxy.faults.latencyMs = ms;
      return answer(res, 200, status());
    }
    case "POST /__demo/down": {
      const seconds = Number(body.seconds);
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DOWN_SECONDS) {
        return answer(res, 400, { error: `seconds must be a whole number from 1 to ${MAX_DOWN_SECONDS}` });
      }
      await takeServerDown(seconds);
      return answer(res, 200, status());
    }
    default:
      return answer(res, 404, { error: `no control ${req.method} ${url.pathname}` });
  }
}

function answer(res, statusCode, value) {
  res.writeHead(statusCode, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(value));
}

// ---- start and stop ---------------------------------------------------------------------------
async function shutdown(code, signal) {
  if (stopping) return;
  stopping = true;
  if (signal !== undefined) console.log(`${signal}: stopping the demo page, the proxy and the server`);
  clearTimeout(restartTimer);
  await vite?.close();
  http.closeAllConnections();
  proxy.server.closeAllConnections();
  proxy.dropAll();
  await Promise.all([
    new Promise((resolve) => (http.listening ? http.close(resolve) : resolve())),
    new Promise((resolve) => (proxy.server.listening ? proxy.server.close(resolve) : resolve())),
    stopServer(),
  ]);
  process.exit(code);
}
process.on("SIGTERM", () => void shutdown(0, "SIGTERM"));
process.on("SIGINT", () => void shutdown(0, "SIGINT"));
// If our parent goes without signalling us (npm killed with SIGKILL, or a shell between npm and
// us that died of a signal without passing it on: package.json's `exec` avoids that shell), stop
// as if the signal had reached us, so nothing keeps the ports.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown(0, "parent exited");
}, 200).unref();

let serverUrl = "mocked"; // what the page reads from <meta name="weather-server">
if (!mocked) {
  await startServer();
  const proxyPort = await listen(proxy.server, port).catch((e) => refuse("server", "PORT", port, e));
  serverUrl = `http://${host}:${proxyPort}`;
}
const { msw } = await import("msw/vite");

const { createServer } = await import("vite");
// Middleware mode on our own HTTP server: Vite's own listen() would install a
// SIGTERM handler (and one on stdin's end) that exits without stopping ours.
vite = await createServer({
  configFile: false,
  root: fileURLToPath(new URL("../demo/", import.meta.url)),
  clearScreen: false,
  logLevel: "warn",
  appType: "spa",
  server: { middlewareMode: true, hmr: { server: http } },
  // The page reads the server's URL from <meta name="weather-server">; a static build leaves it empty.
  plugins: [
    // msw's service worker at /mockServiceWorker.js, for the mocked mode (also `?mocked` on the page).
    msw({ mode: "worker-only" }),
    {
      name: "weather-demo-server-url",
      transformIndexHtml: (html) =>
        html.replace('<meta name="weather-server" content=""', `<meta name="weather-server" content="${serverUrl}"`),
    },
  ],
  optimizeDeps: {
    include: [
      "@bufbuild/protobuf",
      "@connectrpc/connect",
      "@connectrpc/connect/protocol",
      "@connectrpc/connect/protocol-connect",
      "@connectrpc/connect/protocol-grpc-web",
      "eventsource-parser",
      "msw",
      "msw/browser",
      "uplot",
    ],
  },
});
http.on("request", (req, res) => {
  if (req.url?.startsWith("/__demo/")) {
    control(req, res).catch((e) => answer(res, 500, { error: String(e) }));
    return;
  }
  vite.middlewares(req, res);
});
const pagePort = await listen(http, demoPort).catch((e) => refuse("demo page", "DEMO_PORT", demoPort, e));

console.log(`weather-sdk demo page:   http://${host}:${pagePort}/`);
if (mocked) {
  console.log("reference server:        none: the page mocks it with weather-sdk/testing on msw (--mocked)");
  console.log(`processes:               demo ${process.pid}`);
} else {
  console.log(`reference server:        ${serverUrl} (through the demo's fault proxy; tick ${tickMs} ms)`);
  console.log(`processes:               demo ${process.pid}, reference server ${child?.pid} on port ${upstreamPort}`);
}
console.log("Ctrl-C stops everything.");
