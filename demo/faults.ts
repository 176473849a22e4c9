// The "break the network" panel: buttons that call the demo's dev-only
// controls (scripts/demo.mjs serves them under /__demo/ beside the page).

/** What /__demo/status reports. */
export interface FaultStatus {
  readonly serverUp: boolean;
  readonly downForMs: number;
  readonly webSocketBlocked: boolean;
  readonly latencyMs: number;
  readonly connections: number;
  readonly tickMs: number;
  readonly historyMs: number;
}

function isFaultStatus(value: unknown): value is FaultStatus {
  return typeof value === "object" && value !== null && "serverUp" in value && "tickMs" in value;
}

function get<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return found;
}

/**
 * Wires the panel to `controlsUrl` (or disables it when undefined); `onStatus`
 * gets every status seen. Resolves once the first status was asked for.
 */
export function setUpFaults(
  controlsUrl: string | undefined,
  onStatus: (status: FaultStatus) => void,
  log: (text: string) => void,
): Promise<void> {
  const drop = get("drop", HTMLButtonElement);
  const block = get("block-ws", HTMLButtonElement);
  const down = get("down", HTMLButtonElement);
  const seconds = get("down-seconds", HTMLInputElement);
  const latency = get("latency", HTMLSelectElement);
  const note = get("faults-note", HTMLElement);
  const out = get("fault-status", HTMLElement);
  const controls = [drop, block, down, seconds, latency];

  if (controlsUrl === undefined) {
    for (const c of controls) c.disabled = true;
    note.textContent = "The network controls need `npm run demo`, which serves them beside the page; against another server they are off.";
    return Promise.resolve();
  }

  const show = (s: FaultStatus) => {
    block.setAttribute("aria-pressed", String(s.webSocketBlocked));
    block.textContent = s.webSocketBlocked ? "Unblock the WebSocket" : "Block the WebSocket";
    latency.value = String(s.latencyMs);
    const parts = [s.serverUp ? "server up" : `server down, back in ${Math.ceil(s.downForMs / 1000)} s`];
    if (s.webSocketBlocked) parts.push("WebSocket upgrades refused");
    if (s.latencyMs > 0) parts.push(`${s.latencyMs} ms added each way`);
    out.textContent = parts.join(" · ");
    out.dataset["serverUp"] = String(s.serverUp);
    onStatus(s);
  };

  const call = async (path: string, body?: unknown): Promise<void> => {
    try {
      const response = await fetch(`${controlsUrl}/${path}`, {
        method: body === undefined ? "GET" : "POST",
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
      });
      const value: unknown = await response.json();
      if (!response.ok || !isFaultStatus(value)) throw new Error(JSON.stringify(value));
      show(value);
    } catch (e) {
      out.textContent = `the demo's controls did not answer: ${e instanceof Error ? e.message : String(e)}`;
    }
  };

  drop.addEventListener("click", () => {
    log("dropped every connection to the server");
    void call("drop", {});
  });
  block.addEventListener("click", () => {
    const blocked = block.getAttribute("aria-pressed") !== "true";
    block.setAttribute("aria-pressed", String(blocked)); // at once; the status that follows confirms it
    log(blocked ? "blocked WebSocket upgrades (existing ones cut)" : "unblocked WebSocket upgrades");
    void call("websocket", { blocked });
  });
  down.addEventListener("click", () => {
    const n = Math.min(60, Math.max(1, Math.round(Number(seconds.value) || 5)));
    log(`took the server down for ${n} s`);
    void call("down", { seconds: n });
  });
  latency.addEventListener("change", () => {
    log(latency.value === "0" ? "network fast again" : `network slowed: ${latency.value} ms each way`);
    void call("latency", { ms: Number(latency.value) });
  });
  setInterval(() => void call("status"), 1000);
  return call("status");
}
