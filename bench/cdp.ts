/**
 * Chromium driven over the raw DevTools protocol: no Playwright, and no
 * `Network` domain, whose per-frame events slow WebSocket traffic several times.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { CHROMIUM_ARGS as BASE_CHROMIUM_ARGS, resolveChromium } from "../scripts/chromium.mjs";

/** The quiet, offline flags every launch uses (scripts/chromium.mjs), plus headless and no throttling of the (only) tab. */
export const CHROMIUM_ARGS = [
  ...BASE_CHROMIUM_ARGS,
  "--headless",
  "--disable-renderer-backgrounding",
  "--disable-background-timer-throttling",
  "--disable-backgrounding-occluded-windows",
];

/** The Chromium to launch: scripts/chromium.mjs's choice (CHROMIUM_PATH, system, Playwright's, or the npm-installed one). */
export const chromiumPath = async (): Promise<string> => (await resolveChromium()).executablePath;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  method: string;
}

type EventListener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

/** One DevTools WebSocket; commands are answered in any order, matched by id. */
class CdpConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<EventListener>>();

  constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => this.onMessage(data.toString("utf8")));
    ws.on("close", () => {
      for (const p of this.pending.values()) p.reject(new Error(`CDP connection closed during ${p.method}`));
      this.pending.clear();
    });
  }

  send<T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.ws.send(JSON.stringify(sessionId === undefined ? { id, method, params } : { id, method, params, sessionId }));
    });
  }

  on(event: string, listener: EventListener): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  close(): void {
    this.ws.close();
  }

  private onMessage(text: string): void {
    const message = JSON.parse(text) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
      method?: string;
      params?: Record<string, unknown>;
      sessionId?: string;
    };
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      if (p === undefined) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) p.reject(new Error(`${p.method}: ${message.error.message}`));
      else p.resolve(message.result);
      return;
    }
    if (message.method !== undefined) {
      for (const listener of this.listeners.get(message.method) ?? []) listener(message.params ?? {}, message.sessionId);
    }
  }
}

/** A tab of the browser. */
export interface Page {
  /** Sends a command to this tab's session. */
  send<T>(method: string, params?: Record<string, unknown>): Promise<T>;
  /**
   * Opens `url` as a blank, cross-origin-isolated document (answered by the
   * driver, not the server: same origin as the server, high-resolution
   * timers) and runs `script` in it.
   */
  open(url: string, script: string): Promise<void>;
  /** Evaluates `expression` (awaiting a promise) and returns its value; fails after `timeoutMs` (default 120 s). */
  evaluate<T>(expression: string, timeoutMs?: number): Promise<T>;
}

export interface Browser {
  readonly version: string;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Starts headless Chromium with `--remote-debugging-port=0` and connects to it. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  const executablePath = await chromiumPath();
  const userDataDir = mkdtempSync(join(tmpdir(), "weather-bench-chromium-"));
  const child: ChildProcess = spawn(
    executablePath,
    [
      ...CHROMIUM_ARGS,
      // A document answered by Fetch.fulfillRequest has no IP address, so Local Network Access treats it as
      // public and blocks its WebSocket to 127.0.0.1 (fetch would need a permission prompt).
      "--disable-features=LocalNetworkAccessChecks",
      ...extraArgs,
      `--user-data-dir=${userDataDir}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  // However the driver ends, the browser goes with it.
  const killBrowser = () => child.kill("SIGKILL");
  process.once("exit", killBrowser);
  const endpoint = await new Promise<string>((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`Chromium did not start within 20 s:\n${stderr}`)), 20_000);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited with ${String(code)} before DevTools was ready:\n${stderr}`));
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start Chromium at ${executablePath} (${e.message}); set CHROMIUM_PATH to a working Chromium`));
    });
  });
  const ws = new WebSocket(endpoint, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const cdp = new CdpConnection(ws);
  const { product } = await cdp.send<{ product: string }>("Browser.getVersion");

  return {
    version: product,
    async newPage() {
      const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true });
      const send = <T>(method: string, params: Record<string, unknown> = {}) => cdp.send<T>(method, params, sessionId);
      await send("Page.enable");
      await send("Runtime.enable");
      await cdp.send("Target.activateTarget", { targetId });
      const evaluate = async <T>(expression: string, timeoutMs = 120_000): Promise<T> => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer from the page within ${timeoutMs} ms to ${expression.slice(0, 200)}`)),
            timeoutMs,
          );
        });
        type Evaluated = { result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } };
        const r = await Promise.race([
          send<Evaluated>("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true }),
          timeout,
        ]).finally(() => clearTimeout(timer));
        if (r.exceptionDetails !== undefined) {
          throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
        }
        return r.result.value as T;
      };
      return {
        send,
        evaluate,
        async open(url, script) {
          // Answer the navigation ourselves with COOP/COEP (crossOriginIsolated: 5 µs timers instead of 100 µs),
          // then stop intercepting so no request of the benchmark passes through the Fetch domain.
          await send("Fetch.enable", { patterns: [{ urlPattern: `${url}*`, requestStage: "Request" }] });
          const intercepted = new Promise<void>((resolve) => {
            const off = cdp.on("Fetch.requestPaused", (params, sid) => {
              if (sid !== sessionId) return;
              off();
              const body = Buffer.from("<!doctype html><meta charset=utf-8><title>weather-sdk bench</title>").toString("base64");
              void send("Fetch.fulfillRequest", {
                requestId: params["requestId"],
                responseCode: 200,
                responseHeaders: [
                  { name: "content-type", value: "text/html; charset=utf-8" },
                  { name: "cross-origin-opener-policy", value: "same-origin" },
                  { name: "cross-origin-embedder-policy", value: "require-corp" },
                ],
                body,
              }).then(() => resolve());
            });
          });
          const loaded = new Promise<void>((resolve) => {
            const off = cdp.on("Page.loadEventFired", (_params, sid) => {
              if (sid !== sessionId) return;
              off();
              resolve();
            });
          });
          await send("Page.navigate", { url });
          await intercepted;
          await loaded;
          await send("Fetch.disable");
          await evaluate(script);
          const isolated = await evaluate<boolean>("globalThis.crossOriginIsolated");
          if (!isolated) throw new Error(`the page at ${url} is not cross-origin isolated`);
        },
      };
    },
    async close() {
      try {
        await cdp.send("Browser.close");
      } catch {
        // Already gone.
      }
      cdp.close();
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve();
        else {
          const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
        }
      });
      process.off("exit", killBrowser);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
