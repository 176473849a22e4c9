// The demo page: live subscriptions for several cities drawn on a chart, the
// page's own proof that nothing was lost, the network broken on purpose, and
// every call mode of weather.WeatherService. Where the server is and how a
// client is made come from one place, ./backend.ts.
import type { Subscription, SubscriptionState, TransportKind, WeatherClient, WeatherResponse } from "../src/index.js";
import { CITIES } from "../src/testing/index.js";
import { backendFromPage } from "./backend.js";
import { setUpCalls } from "./calls.js";
import { createLiveChart } from "./chart.js";
import { badgeOf, detailOf } from "./describe.js";
import { type FaultStatus, setUpFaults } from "./faults.js";
import { Ledger } from "./ledger.js";
import { watchPerformance } from "./performance.js";
import { createWireMeter } from "./wire-meter.js";

const FALLBACK_ORDER: readonly TransportKind[] = ["websocket", "connect", "sse"];
const COLORS = ["#2f6fde", "#d9480f", "#2b8a3e", "#ae3ec9", "#c2255c", "#0c8599", "#e67700", "#5f3dc4"];
const RECENT_READINGS = 1000;
const PROBE_EVERY_MS = 2000;

function el<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return found;
}

/** One subscribed city: its subscription, the page's ledger of it, and where it is shown. */
interface Feed {
  readonly code: string;
  readonly color: string;
  readonly ledger: Ledger;
  readonly row: HTMLTableRowElement;
  readonly chip: HTMLLIElement;
  sub: Subscription<WeatherResponse> | undefined;
  stop: () => void;
  state: SubscriptionState | undefined;
  /** performance.now() at which a pending reconnect fires. */
  retryAt: number;
  lastMs: number | undefined;
}

// Before anything else of the page: a mocked backend starts msw, which the page's WebSocket and fetch then go through.
const backend = await backendFromPage();
const meter = createWireMeter();
const perf = watchPerformance();
const orderFor = (first: TransportKind): TransportKind[] => [first, ...FALLBACK_ORDER.filter((t) => t !== first)];
let preferred: TransportKind = "websocket";
let client: WeatherClient = backend.createClient(orderFor(preferred), meter);
const feeds = new Map<string, Feed>();
const recent: WeatherResponse[] = [];
let recentNext = 0;
let status: FaultStatus | undefined;
let inferredTickMs: number | undefined;
const tickMs = () => status?.tickMs ?? inferredTickMs;
let readingsDelivered = 0;

el("server", HTMLElement).textContent = backend.serverUrl;
const chart = createLiveChart(el("chart", HTMLElement));
chart.onDrawn = (ms, points) => perf.draw(ms, points);

// ---- cities ---------------------------------------------------------------------------------
const citySelect = el("city", HTMLSelectElement);
for (const city of CITIES.values()) citySelect.add(new Option(`${city.name} (${city.code})`, city.code));
citySelect.value = "LON";

function addCity(code: string, historyMs: number): void {
  if (feeds.has(code)) return;
  const color = COLORS[feeds.size % COLORS.length] ?? "#2f6fde";
  const name = CITIES.get(code)?.name ?? code;
  const chip = document.createElement("li");
  chip.style.setProperty("--city", color);
  const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "×", title: `Remove ${name}` });
  remove.setAttribute("aria-label", `Remove ${name}`);
  remove.addEventListener("click", () => removeCity(code));
  chip.append(Object.assign(document.createElement("span"), { textContent: name }), remove);
  el("cities", HTMLElement).append(chip);

  const row = document.createElement("tr");
  row.dataset["city"] = code;
  row.innerHTML = `<th scope="row"></th><td data-k="received">0</td><td data-k="expected">—</td><td data-k="lost">—</td><td data-k="duplicates">0</td><td data-k="replayed">0</td><td data-k="reconnects">0</td>`;
  const head = row.querySelector("th");
  if (head !== null) head.innerHTML = `<span class="swatch" style="background:${color}"></span>${code}`;
  el("proof", HTMLTableElement).tBodies[0]?.append(row);

  // Ask for at most 90 % of the server's history window: the request reaches the server a
  // little later, and a cursor that has fallen out of the window by then would be a (reported) gap.
  const limit = status === undefined ? historyMs : Math.min(historyMs, status.historyMs * 0.9);
  const after = limit > 0 ? Date.now() - limit : undefined;
  const feed: Feed = {
    code,
    color,
    ledger: new Ledger(after),
    row,
    chip,
    sub: undefined,
    stop: () => undefined,
    state: undefined,
    retryAt: 0,
    lastMs: undefined,
  };
  feeds.set(code, feed);
  chart.addCity(code, color);
  subscribe(feed, after === undefined ? undefined : BigInt(after));
  log(`added ${name}${after === undefined ? "" : `, starting ${Math.round(limit / 1000)} s back`}`);
}

function removeCity(code: string): void {
  const feed = feeds.get(code);
  if (feed === undefined) return;
  feed.stop();
  feeds.delete(code);
  feed.chip.remove();
  feed.row.remove();
  chart.removeCity(code);
  log(`removed ${CITIES.get(code)?.name ?? code}`);
  stateChanged();
}

function subscribe(feed: Feed, after: bigint | undefined): void {
  const sub = client.subscribeWeather({ cityCode: feed.code }, after === undefined ? {} : { after });
  const offState = sub.onState((s) => {
    feed.state = s;
    if (s.kind === "open") feed.ledger.opened(s.recovered);
    if (s.kind === "reconnecting") feed.retryAt = performance.now() + s.delayMs;
    stateChanged();
  });
  const offMessage = sub.onMessage((r) => {
    const ms = Number(r.timestamp);
    if (feed.lastMs !== undefined && ms > feed.lastMs && (inferredTickMs === undefined || ms - feed.lastMs < inferredTickMs)) {
      inferredTickMs = ms - feed.lastMs;
    }
    feed.lastMs = ms;
    feed.ledger.add(ms, tickMs(), Date.now());
    chart.add(feed.code, ms, r.temperature, r.humidity);
    readingsDelivered++;
    recent[recentNext] = r;
    recentNext = (recentNext + 1) % RECENT_READINGS;
    scheduleRender();
  });
  feed.sub = sub;
  feed.state = sub.state;
  feed.stop = () => {
    offState();
    offMessage();
    sub.close();
  };
}

el("add-form", HTMLFormElement).addEventListener("submit", (event) => {
  event.preventDefault();
  addCity(citySelect.value, Number(el("history", HTMLSelectElement).value));
});

// ---- switching transport, live ----------------------------------------------------------------
const transportSelect = el("transport", HTMLSelectElement);
const showOrder = () => (el("order", HTMLElement).textContent = orderFor(preferred).join(" → "));
showOrder();
transportSelect.addEventListener("change", () => {
  const next = transportSelect.value as TransportKind;
  if (next === preferred) return;
  const old = client;
  preferred = next;
  client = backend.createClient(orderFor(next), meter);
  calls.stopChat();
  // Each subscription moves with its cursor: the new one starts after the last reading the old one delivered.
  for (const feed of feeds.values()) {
    const cursor = feed.sub?.cursor;
    feed.stop();
    subscribe(feed, cursor);
  }
  old.close();
  showOrder();
  log(`switched to ${next}: ${feeds.size} subscription${feeds.size === 1 ? "" : "s"} resumed after their last reading`);
  stateChanged();
});

// ---- state, badge, countdown, retry, timeline ---------------------------------------------------
const badge = el("badge", HTMLElement);
const countdown = el("countdown", HTMLElement);
const retry = el("retry", HTMLButtonElement);
const rank: Record<SubscriptionState["kind"], number> = { closed: 3, reconnecting: 2, connecting: 1, open: 0 };
let shownBadge = "";
let stretch: { label: string; since: number } | undefined;
let everLive = false;

/**
 * The page's state: the worst of its subscriptions that have opened before (a
 * city just added is not a change of the connection), or of all before any has.
 */
function worstState(): SubscriptionState | undefined {
  const all = [...feeds.values()];
  const established = all.filter((f) => f.ledger.opens > 0);
  let worst: SubscriptionState | undefined;
  for (const feed of established.length > 0 ? established : all) {
    const s = feed.state;
    if (s !== undefined && (worst === undefined || rank[s.kind] > rank[worst.kind])) worst = s;
  }
  return worst;
}

function stateChanged(): void {
  const worst = worstState();
  const text = worst === undefined ? "Idle · add a city" : badgeOf(worst);
  badge.dataset["kind"] = worst?.kind ?? "closed";
  badge.dataset["transport"] = worst !== undefined && worst.kind !== "closed" ? worst.transport : "";
  if (text !== shownBadge) {
    shownBadge = text;
    badge.textContent = text;
    const now = performance.now();
    const wasLive = stretch !== undefined && stretch.label.startsWith("Live") && !text.startsWith("Live");
    const carried = wasLive
      ? ` — ${stretch?.label.split(" · ")[1] ?? "?"} carried the last ${((now - (stretch?.since ?? now)) / 1000).toFixed(1)} s`
      : "";
    stretch = { label: text, since: now };
    let resumed = "";
    if (worst?.kind === "open") {
      const allRecovered = [...feeds.values()].every((f) => f.state?.kind !== "open" || f.state.recovered);
      if (everLive) resumed = allRecovered ? " — resumed, recovered: the server replayed every reading missed" : " — resumed with a gap";
      everLive = true;
    }
    log(`${text}${carried}${resumed}`, worst?.kind ?? "closed");
  }
  retry.hidden = ![...feeds.values()].some((f) => f.state?.kind === "reconnecting");
  el("details-text", HTMLElement).textContent = [...feeds.values()]
    .map((f) => `${f.code}: ${f.state === undefined ? "—" : detailOf(f.state)}`)
    .join("\n");
  tickCountdown();
  scheduleRender();
}

function tickCountdown(): void {
  const waiting = [...feeds.values()].filter((f) => f.state?.kind === "reconnecting");
  const ahead = waiting.map((f) => f.retryAt - performance.now()).filter((ms) => ms > 0);
  countdown.textContent =
    waiting.length === 0 ? "" : ahead.length === 0 ? "trying again now" : `next try in ${(Math.min(...ahead) / 1000).toFixed(1)} s`;
}
setInterval(tickCountdown, 100);

retry.addEventListener("click", () => {
  let started = 0;
  for (const feed of feeds.values()) if (feed.sub?.reconnectNow() === true) started++;
  log(`retry now: ${started} subscription${started === 1 ? "" : "s"} tried again without waiting`);
});

function log(text: string, kind = "note"): void {
  const list = el("timeline", HTMLElement);
  const item = document.createElement("li");
  item.dataset["kind"] = kind;
  item.append(Object.assign(document.createElement("time"), { textContent: new Date().toLocaleTimeString() }), ` ${text}`);
  list.prepend(item);
  while (list.children.length > 40) list.lastElementChild?.remove();
}

// ---- the proof table and figures, drawn at most once per frame -------------------------------------
let renderPending = false;
function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(render);
}

function render(): void {
  renderPending = false;
  const tick = tickMs();
  let lost = 0;
  let duplicates = 0;
  let missedReported = false;
  for (const feed of feeds.values()) {
    const f = feed.ledger.figures(tick);
    const missing = f.expected === undefined ? undefined : Math.max(0, f.expected - (f.received - f.duplicates));
    lost += missing ?? 0;
    duplicates += f.duplicates;
    missedReported ||= f.gapReported;
    const cells: Record<string, string> = {
      received: String(f.received),
      expected: f.expected === undefined ? "—" : String(f.expected),
      lost: missing === undefined ? "—" : f.gapReported && missing > 0 ? `${missing} (server: not recovered)` : String(missing),
      duplicates: String(f.duplicates),
      replayed: String(f.replayed),
      reconnects: String(f.reconnects),
    };
    for (const cell of feed.row.querySelectorAll<HTMLElement>("td[data-k]")) {
      const key = cell.dataset["k"] ?? "";
      const text = cells[key] ?? "";
      if (cell.textContent !== text) cell.textContent = text;
      if (key === "lost" || key === "duplicates") cell.classList.toggle("bad", text !== "0" && text !== "—");
    }
    Object.assign(feed.row.dataset, {
      received: String(f.received),
      lost: String(missing ?? -1),
      duplicates: String(f.duplicates),
      reconnects: String(f.reconnects),
      replayed: String(f.replayed),
      transport: feed.state !== undefined && feed.state.kind !== "closed" ? feed.state.transport : "",
    });
  }
  el("proof-summary", HTMLElement).textContent =
    feeds.size === 0
      ? "Add a city to start counting."
      : lost === 0 && duplicates === 0
        ? `Every tick arrived once: 0 lost, 0 duplicated across ${feeds.size} subscription${feeds.size === 1 ? "" : "s"}, checked by the page against the server's tick grid.`
        : `${lost} lost, ${duplicates} duplicated${missedReported ? " — the server said it could not replay everything (recovered: false)" : ""}.`;
  el("carriage", HTMLElement).textContent = carriage();
}

function carriage(): string {
  const open = [...feeds.values()].flatMap((f) => (f.state?.kind === "open" ? [f.state.transport] : []));
  const n = open.length;
  if (n === 0) return feeds.size === 0 ? "" : `${feeds.size} subscription${feeds.size === 1 ? "" : "s"}, none open right now.`;
  const plural = n === 1 ? "" : "s";
  const overWebSocket = open.filter((t) => t === "websocket").length;
  const overHttp = n - overWebSocket;
  const parts: string[] = [];
  if (overWebSocket > 0) parts.push(`${overWebSocket} over 1 WebSocket`);
  if (overHttp > 0)
    parts.push(
      `${overHttp} over ${overHttp} HTTP stream${overHttp === 1 ? "" : "s"} (one request each; a browser allows 6 per server on HTTP/1.1)`,
    );
  return `${n} live subscription${plural}: ${parts.join(", ")}.`;
}

// ---- live figures ------------------------------------------------------------------------------
let lastCount = 0;
let lastBytes = 0;
setInterval(() => {
  const readings = readingsDelivered - lastCount;
  const bytes = meter.receivedBytes - lastBytes;
  lastCount = readingsDelivered;
  lastBytes = meter.receivedBytes;
  el("rate", HTMLElement).textContent = String(readings);
  el("bytes", HTMLElement).textContent = readings > 0 ? `${(bytes / readings).toFixed(1)} B` : "—";
  el("rate", HTMLElement).dataset["total"] = String(readingsDelivered);
}, 1000);

let probing = false;
setInterval(() => {
  if (probing || document.visibilityState === "hidden" || feeds.size === 0) return;
  probing = true;
  const weather = client;
  const started = performance.now();
  const code = feeds.keys().next().value ?? "NYC";
  weather
    .getWeather({ cityCode: code })
    .then(
      () => (el("rtt", HTMLElement).textContent = `${(performance.now() - started).toFixed(1)} ms · ${weather.transport ?? "?"}`),
      () => (el("rtt", HTMLElement).textContent = "failed"),
    )
    .finally(() => (probing = false));
}, PROBE_EVERY_MS);

const calls = setUpCalls({
  client: () => client,
  selectedCity: () => citySelect.value,
  recentReadings: () => recent,
});

const controlsReady = setUpFaults(
  backend.controlsUrl,
  (s) => {
    status = s;
    el("connections", HTMLElement).textContent = String(s.connections);
  },
  (text) => log(text, "fault"),
);

// `?cities=NYC,LON` picks the cities the page starts with (none with `?cities=`); default New York.
// After the first status, so history asked for stays inside the server's window.
const startCities = (new URLSearchParams(location.search).get("cities") ?? "NYC").split(",").filter((c) => CITIES.has(c));
void controlsReady.then(() => {
  for (const code of startCities) addCity(code, 60_000);
  stateChanged();
});

// Every control is wired: tests and the screenshot script wait for this before they click.
document.documentElement.dataset["ready"] = "";
