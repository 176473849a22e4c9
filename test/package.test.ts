// The package as a user gets it: built dist/ resolved through `exports` from
// another folder by plain Node, the npm tarball's contents, the server CLI.
// `npm test` builds dist/ before vitest runs.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, streamCodeOf, weatherClient } from "./helpers/connect-node.js";
import { startServer } from "./helpers/server.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

interface PackageJson {
  name: string;
  engines: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
}
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson;

beforeAll(() => {
  for (const entry of [
    "dist/index.js",
    "dist/sse.js",
    "dist/websocket.js",
    "dist/server/index.js",
    "dist/testing/index.js",
    "dist/server/cli.js",
  ]) {
    if (!existsSync(join(root, entry))) {
      throw new Error(`${entry} is missing: run \`npm run build\` first (\`npm test\` does)`);
    }
  }
  // These tests run the built package: a source edited since the build would be tested stale.
  const builtMs = statSync(join(root, "dist/index.js")).mtimeMs;
  const newer = readdirSync(join(root, "src"), { recursive: true, encoding: "utf8" }).filter(
    (path) => path.endsWith(".ts") && statSync(join(root, "src", path)).mtimeMs > builtMs,
  );
  if (newer.length > 0) {
    throw new Error(`dist/ is older than src/${newer[0] ?? ""}: run \`npm run build\` first (\`npm test\` does)`);
  }
});

describe("package.json exports", () => {
  const entries = Object.entries(pkg.exports).filter(([subpath]) => subpath !== "./package.json");

  it("offers ., ./websocket, ./sse, ./server and ./testing", () => {
    expect(entries.map(([subpath]) => subpath).sort()).toEqual([".", "./server", "./sse", "./testing", "./websocket"]);
  });

  it.each(entries)("%s points into dist/ with types first, and the files exist", (_subpath, target) => {
    expect(typeof target).toBe("object");
    const conditions = Object.entries(target as Record<string, string>);
    expect(conditions[0]?.[0], "`types` must come first to be picked by TypeScript").toBe("types");
    for (const [condition, path] of conditions) {
      expect(path, condition).toMatch(condition === "types" ? /^\.\/dist\/.+\.d\.ts$/ : /^\.\/dist\/.+\.js$/);
      expect(existsSync(join(root, path)), `${condition}: ${path} exists`).toBe(true);
    }
  });
});

describe("the Node policy: current and maintenance LTS (24 and 22)", () => {
  it("engines, the project's own Node, the README and the Node running the tests agree", () => {
    expect(pkg.engines).toEqual({ node: ">=22" });
    expect(pkg.devDependencies["node"]).toMatch(/^24\./);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toContain("**Node 24 and Node 22** (`engines`:\n`>=22`)");
    expect(readme).not.toMatch(/Node ≥ ?2\d|Node 20 (users|has no)/);
    expect(["22", "24"]).toContain(process.versions.node.split(".")[0]);
  });
});

describe("from a plain Node ESM app in another folder", () => {
  let app: string;

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), "weather-sdk-app-"));
    mkdirSync(join(app, "node_modules"));
    // Like `npm install ../weather-sdk`: a link to the checkout. The client
    // libraries come from the checkout too, so there is one copy of each.
    symlinkSync(root, join(app, "node_modules", pkg.name), "junction");
    symlinkSync(join(root, "node_modules", "@connectrpc"), join(app, "node_modules", "@connectrpc"), "junction");
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    writeFileSync(
      join(app, "main.js"),
      `
import { createWeatherServer } from "weather-sdk/server";
import { WeatherService, RESUME_STATUS_HEADER } from "weather-sdk";
import { CITIES, readingAt } from "weather-sdk/testing";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

const tickMs = 50;
const server = createWeatherServer({ tickMs });
const { url } = await server.listen(0);
try {
  const client = createClient(WeatherService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
  const reading = await client.getWeather({ cityCode: "NYC" });
  const expected = readingAt(CITIES.get("NYC"), Number(reading.timestamp) / tickMs, tickMs);
  const streamed = [];
  for await (const r of client.subscribeWeather({ cityCode: "TYO" })) {
    streamed.push(String(r.timestamp));
    if (streamed.length === 2) break;
  }
  console.log(JSON.stringify({
    typeName: WeatherService.typeName,
    resumeStatusHeader: RESUME_STATUS_HEADER,
    matchesSimulation: reading.temperature === expected.temperature && reading.description === expected.description,
    streamed,
    resolved: ["weather-sdk", "weather-sdk/server", "weather-sdk/testing"].map((s) => import.meta.resolve(s)),
  }));
} finally {
  await server.close();
}
`,
    );
  });

  afterAll(() => {
    rmSync(app, { recursive: true, force: true });
  });

  it("imports weather-sdk/server and weather-sdk and makes real calls", async () => {
    const { stdout } = await run(process.execPath, ["main.js"], { cwd: app, timeout: 15_000 });
    const out = JSON.parse(stdout) as {
      typeName: string;
      resumeStatusHeader: string;
      matchesSimulation: boolean;
      streamed: string[];
      resolved: string[];
    };
    expect(out.typeName).toBe("weather.WeatherService");
    expect(out.resumeStatusHeader).toBe("weather-resume-status");
    expect(out.matchesSimulation).toBe(true);
    expect(out.streamed).toHaveLength(2);
    expect(BigInt(out.streamed[1] ?? 0) - BigInt(out.streamed[0] ?? 0)).toBe(50n);
    // Built JavaScript, never TypeScript sources.
    for (const url of out.resolved) expect(url).toMatch(/\/dist\/(server\/|testing\/)?index\.js$/);
  });
});

describe("npm pack", () => {
  it("ships dist/, proto/, README, package.json (and PROTOCOL.md) and nothing else", async () => {
    const npmCli = process.env["npm_execpath"];
    const args = ["pack", "--dry-run", "--json", "--ignore-scripts"];
    const { stdout } = npmCli?.endsWith(".js")
      ? await run(process.execPath, [npmCli, ...args], { cwd: root })
      : await run("npm", args, { cwd: root, shell: process.platform === "win32" });
    const [report] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const paths = report.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "proto/weather.proto",
        "dist/index.js",
        "dist/index.d.ts",
        "dist/server/index.js",
        "dist/testing/index.js",
      ]),
    );
    const unexpected = paths.filter(
      (p) => !/^(dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map)|proto\/.+\.proto|README\.md|package\.json|PROTOCOL\.md|LICENSE)$/.test(p),
    );
    expect(unexpected).toEqual([]);
    expect(paths.filter((p) => p.startsWith("test/") || p.startsWith("src/") || p.includes(".test."))).toEqual([]);
  });
});

describe("the browser entry", () => {
  it("bundles for the browser without any Node built-in", async () => {
    const result = await build({
      absWorkingDir: root,
      entryPoints: ["dist/index.js"],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      metafile: true,
    });
    // esbuild already fails on a Node built-in for platform "browser"; also
    // keep the Node-only pieces (the server, the `ws` package) out.
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((i) => /^node:|node_modules\/ws\/|(src|dist)\/server\//.test(i))).toEqual([]);
    expect(inputs).toContain("dist/index.js");
  });
});

describe("the server CLI (npm run server)", () => {
  const runCli = (env: Record<string, string>) =>
    run(process.execPath, [join(root, "dist/server/cli.js")], { env: { ...process.env, ...env }, timeout: 10_000 }).then(
      () => ({ code: 0, stderr: "" }),
      (e: unknown) => {
        const failed = e as { code?: number; stderr?: string };
        return { code: failed.code, stderr: failed.stderr ?? "" };
      },
    );

  it("refuses a PORT that is not a port number, saying so", async () => {
    const { code, stderr } = await runCli({ PORT: "80a" });
    expect(code).toBe(1);
    expect(stderr).toContain('PORT must be a port number from 0 to 65535 (0 picks a free one), got "80a"');
  });

  it("says how to pick another port when PORT is taken", async () => {
    const taken = await startServer();
    try {
      const { code, stderr } = await runCli({ PORT: new URL(taken.url).port });
      expect(code).toBe(1);
      expect(stderr).toMatch(/EADDRINUSE\); set PORT to another port/);
    } finally {
      await taken.close();
    }
  });

  it("listens on PORT, and on SIGTERM ends open streams with Unavailable and exits 0", async () => {
    const child = spawn(process.execPath, [join(root, "dist/server/cli.js")], {
      env: { ...process.env, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk: string) => {
          stdout += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(stdout);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        void exited.then((code) => reject(new Error(`the server exited with ${code} before listening: ${stdout}`)));
      });
      const { client, close } = weatherClient("Connect", url, "2");
      try {
        const iterator = client.subscribeWeather({ cityCode: "NYC" })[Symbol.asyncIterator]();
        expect((await iterator.next()).done).toBe(false);
        child.kill("SIGTERM");
        expect(await streamCodeOf({ [Symbol.asyncIterator]: () => iterator })).toBe(Code.Unavailable);
      } finally {
        close();
      }
      expect(await exited).toBe(0);
      expect(stdout).toContain("SIGTERM");
    } finally {
      child.kill("SIGKILL");
    }
  });
});

/** Runs npm's CLI (the one running this test when started by `npm test`) with `args` in `cwd`. */
const npm = (args: string[], cwd: string) => {
  const npmCli = process.env["npm_execpath"];
  return npmCli?.endsWith(".js")
    ? run(process.execPath, [npmCli, ...args], { cwd, timeout: 120_000 })
    : run("npm", args, { cwd, timeout: 120_000, shell: process.platform === "win32" });
};
const tsc = (project: string) =>
  run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", project], { timeout: 120_000 }).then(
    () => "",
    (e: unknown) => (e as { stdout?: string }).stdout ?? String(e),
  );

describe("checked like a library", () => {
  it("publint (strict) has nothing to say", { timeout: 60_000 }, async () => {
    const { publint } = await import("publint");
    const { messages } = await publint({ pkgDir: root, strict: true });
    expect(messages).toEqual([]);
  });

  it(
    "are-the-types-wrong finds no problem in the packed tarball (ESM only: no CommonJS entry by design)",
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "weather-sdk-attw-"));
      try {
        await npm(["pack", "--ignore-scripts", "--pack-destination", dir], root);
        const [tarball] = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
        if (tarball === undefined) throw new Error("npm pack wrote no tarball");
        const attw = join(root, "node_modules/@arethetypeswrong/cli/dist/index.js");
        const { stdout } = await run(process.execPath, [attw, join(dir, tarball), "--profile", "esm-only", "--format", "json"], {
          timeout: 120_000,
        }).catch((e: unknown) => e as { stdout: string });
        // attw's JSON lists problems by kind.
        const report = JSON.parse(stdout) as { problems?: Record<string, { resolutionKind?: string }[]> };
        const problems = Object.values(report.problems ?? {}).flat();
        // CommonJS `require` (node10, node16-cjs) is out of scope for an ESM-only package; attw's esm-only profile ignores them too.
        expect(problems.filter((p) => p.resolutionKind !== "node10" && p.resolutionKind !== "node16-cjs")).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("compiled by a TypeScript consumer", () => {
  let app: string;
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), "weather-sdk-tsc-"));
    mkdirSync(join(app, "node_modules"));
    symlinkSync(root, join(app, "node_modules", pkg.name), "junction");
    symlinkSync(join(root, "node_modules", "@types"), join(app, "node_modules", "@types"), "junction");
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    // Every entry, and the option types a consumer writes by hand.
    const common = `
import { createWeatherClient, WeatherResponseSchema, type WeatherClientOptions, type WeatherResponse } from "weather-sdk";
import { createWebSocketTransport } from "weather-sdk/websocket";
import { createSseTransport } from "weather-sdk/sse";
const options: WeatherClientOptions = { baseUrl: "http://127.0.0.1:8080", headers: async () => ({ authorization: "Bearer x" }) };
const weather = createWeatherClient(options);
export const reading: Promise<WeatherResponse> = weather.getWeather({ cityCode: "NYC" }, { headers: [["x-a", "b"]] });
export const transports = [createWebSocketTransport({ url: "ws://127.0.0.1:8080/ws", connectionHeaders: { a: "b" } }), createSseTransport({ baseUrl: "http://127.0.0.1:8080", credentials: "include" })];
export { WeatherResponseSchema };
`;
    // weather-sdk/testing builds on msw, whose declarations need the DOM library: the browser setting only.
    writeFileSync(
      join(app, "browser.ts"),
      `${common}import { CITIES, createWeatherMocks } from "weather-sdk/testing";\nexport { CITIES, createWeatherMocks };\n`,
    );
    writeFileSync(
      join(app, "node.ts"),
      `${common}import { createWeatherServer } from "weather-sdk/server";\nexport const server = createWeatherServer();\n`,
    );
    // What README tells a Node project without the DOM library that checks libraries: connect's own declarations name the DOM's HeadersInit.
    writeFileSync(join(app, "headers-init.d.ts"), "type HeadersInit = ConstructorParameters<typeof Headers>[0];\n");
  });
  afterAll(() => {
    rmSync(app, { recursive: true, force: true });
  });

  const compile = (name: string, options: Record<string, unknown>, files: string[]) => {
    const project = join(app, `tsconfig.${name}.json`);
    writeFileSync(
      project,
      JSON.stringify({
        compilerOptions: { target: "es2022", strict: true, noEmit: true, ...options },
        files: files.map((f) => join(app, f)),
      }),
    );
    return tsc(project);
  };

  it("bundler resolution with the DOM library, libraries checked (skipLibCheck: false)", { timeout: 120_000 }, async () => {
    const out = await compile(
      "bundler",
      { module: "esnext", moduleResolution: "bundler", lib: ["es2023", "dom"], types: [], skipLibCheck: false },
      ["browser.ts"],
    );
    expect(out).toBe("");
  });

  it("nodenext without the DOM library (Node's own types only)", { timeout: 120_000 }, async () => {
    const out = await compile(
      "nodenext",
      { module: "nodenext", moduleResolution: "nodenext", lib: ["es2023"], types: ["node"], skipLibCheck: true },
      ["node.ts"],
    );
    expect(out).toBe("");
  });

  it(
    "node16 without the DOM library, libraries checked: weather-sdk's declarations are clean; connect's need the README's one line",
    { timeout: 120_000 },
    async () => {
      const settings = { module: "node16", moduleResolution: "node16", lib: ["es2023"], types: ["node"], skipLibCheck: false };
      const without = await compile("node16-bare", settings, ["node.ts"]);
      const erring = [...new Set(without.split("\n").flatMap((line) => /^(\S+?)\(\d+,\d+\): error/.exec(line)?.[1] ?? []))];
      expect(erring.filter((file) => !file.includes("node_modules/@connectrpc/connect/"))).toEqual([]);
      expect(await compile("node16", settings, ["node.ts", "headers-init.d.ts"])).toBe("");
    },
  );
});

describe("installed from the npm tarball into an app in another folder", () => {
  it("runs the README's example against the reference server", { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "weather-sdk-tarball-"));
    try {
      await npm(["pack", "--ignore-scripts", "--pack-destination", dir], root);
      const [tarball] = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
      if (tarball === undefined) throw new Error("npm pack wrote no tarball");
      const app = join(dir, "app");
      mkdirSync(app);
      writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
      await npm(["install", "--prefer-offline", "--no-audit", "--no-fund", join(dir, tarball)], app);
      // The README's example as written, with the names it leaves to the reader defined.
      const readme = readFileSync(join(root, "README.md"), "utf8");
      const example = /## Using the SDK\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
      if (example === undefined) throw new Error("README has no example under ## Using the SDK");
      writeFileSync(
        join(app, "main.js"),
        `
import { createWeatherServer } from "weather-sdk/server";
const server = createWeatherServer({ tickMs: 20 });
const { url } = await server.listen(0);
const drawn = [];
const draw = (r) => drawn.push(r);
const rendered = [];
const render = (r) => { rendered.push(r); if (rendered.length === 3) abort.abort(); };
const readings = [{ temperature: 10, humidity: 40, timestamp: 5n }, { temperature: 20, humidity: 60, timestamp: 9n }];
const requests = (async function* () { yield { cityCode: "LON" }; yield { cityCode: "TYO" }; })();
const shown = [];
const show = (r) => shown.push(r);
${example.replace('"https://weather.example.com"', "url")}
console.log(JSON.stringify({ now: now.description, rendered: rendered.length, summary: summary.description, shown: shown.length, transport: weather.transport }));
weather.close();
await server.close();
`,
      );
      const { stdout } = await run(process.execPath, ["main.js"], { cwd: app, timeout: 60_000 });
      const out = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
      expect(out).toMatchObject({ summary: "2 readings", shown: 2, transport: "websocket" });
      expect(out["rendered"]).toBeGreaterThanOrEqual(3);
      // Built JavaScript from the tarball, not this checkout.
      expect(readFileSync(join(app, "node_modules/weather-sdk/package.json"), "utf8")).toContain('"name": "weather-sdk"');
      expect(existsSync(join(app, "node_modules/weather-sdk/src"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
