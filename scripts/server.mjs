// `npm run server`: one Node process that builds dist/ when it is stale (scripts/build.mjs)
// and then runs the reference server in-process, so no second process can outlive it.
// npm runs a script through `sh -c` and forwards SIGTERM and SIGINT to that shell only;
// the script is `exec node …` so that the shell becomes this process (dash, Debian's
// /bin/sh, would otherwise die of SIGTERM, ignore SIGINT, and leave the server running).
// The server's own handlers then end open streams, close the port and exit.
import { build, isFresh } from "./build.mjs";

if (!isFresh()) {
  try {
    build();
  } catch (e) {
    console.error(`build failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
await import("../dist/server/cli.js");
