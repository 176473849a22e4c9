/** What `npm run server` was asked for, from its arguments and environment. */
export interface CliOptions {
  readonly port: number;
  readonly host: string;
  readonly tickMs: number | undefined;
  readonly source: { readonly kind: "simulated" } | { readonly kind: "redis"; readonly url: string };
}

/** A usage error: the CLI prints its message and exits with status 1. */
export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
}

export const CLI_USAGE = `usage: npm run server -- [--port N] [--host H] [--tick-ms N] [--source simulated|redis] [--redis URL]
  --port, PORT                  port to listen on (0 picks a free one); default 8080
  --host, HOST                  address to bind; default 127.0.0.1
  --tick-ms, TICK_MS            a simulated reading per city every N ms; default 1000
  --source, WEATHER_SOURCE      where readings live: simulated (in this process, the default) or redis
  --redis, WEATHER_REDIS_URL    the Redis of --source redis; default redis://127.0.0.1:6379`;

/**
 * Reads the CLI's options: flags win over environment variables, which win
 * over defaults. Throws {@link CliUsageError} with a message that says what
 * to change.
 */
export function parseCliOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new CliUsageError(`unexpected argument "${arg}"\n${CLI_USAGE}`);
    const name = match[1] ?? "";
    if (!["port", "host", "tick-ms", "source", "redis"].includes(name)) {
      throw new CliUsageError(`unknown option --${name}\n${CLI_USAGE}`);
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new CliUsageError(`--${name} needs a value\n${CLI_USAGE}`);
    flags.set(name, value);
  }
  const pick = (flag: string, variable: string) => flags.get(flag) ?? env[variable];

  const portText = pick("port", "PORT") ?? "8080";
  const port = Number(portText);
  if (portText.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliUsageError(`PORT must be a port number from 0 to 65535 (0 picks a free one), got "${portText}"`);
  }
  const host = pick("host", "HOST") ?? "127.0.0.1";

  const tickText = pick("tick-ms", "TICK_MS");
  const tickMs = tickText === undefined ? undefined : Number(tickText);
  if (tickMs !== undefined && (!Number.isSafeInteger(tickMs) || tickMs <= 0)) {
    throw new CliUsageError(`TICK_MS must be a positive whole number of milliseconds, got "${tickText}"`);
  }

  const sourceKind = pick("source", "WEATHER_SOURCE") ?? "simulated";
  const redisUrl = pick("redis", "WEATHER_REDIS_URL");
  if (sourceKind === "simulated") {
    if (flags.has("redis")) throw new CliUsageError("--redis needs --source redis");
    return { port, host, tickMs, source: { kind: "simulated" } };
  }
  if (sourceKind !== "redis") {
    throw new CliUsageError(`--source must be "simulated" or "redis", got "${sourceKind}"`);
  }
  const url = redisUrl ?? "redis://127.0.0.1:6379";
  if (!/^rediss?:\/\//.test(url)) {
    throw new CliUsageError(`--redis must be a redis:// or rediss:// URL, got "${url}"`);
  }
  return { port, host, tickMs, source: { kind: "redis", url } };
}
