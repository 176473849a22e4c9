// The reference server as `npm run demo` runs it: a child process of scripts/demo.mjs, so the
// demo can kill it and start it again ("server down for N seconds"). Like dist/server/cli.js,
// plus the tick interval and history window from TICK_MS and HISTORY_MS, which the CLI does not
// take. It exits when its parent goes away (the IPC channel closes), so it never outlives the demo.
import { createWeatherServer } from "../dist/server/index.js";

const port = Number(process.env.PORT ?? "0");
const tickMs = Number(process.env.TICK_MS ?? "1000");
const historyWindowMs = Number(process.env.HISTORY_MS ?? "600000");

const server = createWeatherServer({ tickMs, historyWindowMs, onError: () => undefined });
const { url } = await server.listen(port, "127.0.0.1");
console.log(`reference server listening on ${url}`);
process.send?.({ url });

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("disconnect", stop);
