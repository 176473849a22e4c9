// `npm run demo`: until the demo page exists, this starts the reference server and says so.
console.log("The demo page is not built yet; starting the reference server on its own (same as `npm run server`).");
await import("../dist/server/cli.js");
