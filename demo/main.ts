// The demo page: every call mode of weather.WeatherService through
// createWeatherClient, on the transports ticked in the header.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createWritableIterable, type WritableIterable } from "@connectrpc/connect/protocol";
import {
  createWeatherClient,
  type GetWeatherRequest,
  GetWeatherRequestSchema,
  type Subscription,
  type SubscriptionState,
  type TransportKind,
  type WeatherClient,
  type WeatherResponse,
} from "../src/index.js";
import { CITIES } from "../src/testing/index.js";

const ALL_TRANSPORTS: readonly TransportKind[] = ["websocket", "connect", "grpc-web", "sse"];
const SHOWN_READINGS = 10;

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

function button(id: string): HTMLButtonElement {
  const found = element(id);
  if (!(found instanceof HTMLButtonElement)) throw new Error(`#${id} is not a button`);
  return found;
}

/** The server from `?server=`, else what `npm run demo` wrote into the page, else this page's origin. */
function serverUrl(): string {
  const fromQuery = new URLSearchParams(location.search).get("server");
  const fromMeta = document.querySelector<HTMLMetaElement>('meta[name="weather-server"]')?.content ?? "";
  if (fromQuery !== null && fromQuery !== "") return fromQuery;
  return fromMeta.startsWith("http") ? fromMeta : location.origin;
}

const baseUrl = serverUrl();
element("server").textContent = baseUrl;

const citySelect = element("city") as HTMLSelectElement;
for (const city of CITIES.values())
  citySelect.add(new Option(`${city.code} · ${city.name}`, city.code, city.code === "NYC", city.code === "NYC"));

const boxes = new Map<TransportKind, HTMLInputElement>();
for (const kind of ALL_TRANSPORTS) {
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = kind !== "grpc-web";
  box.addEventListener("change", rebuildClient);
  label.append(box, ` ${kind}`);
  element("transports").append(label);
  boxes.set(kind, box);
}

let weather: WeatherClient = newClient();
let subscription: Subscription<WeatherResponse> | undefined;
let chat: WritableIterable<GetWeatherRequest> | undefined;
const received: WeatherResponse[] = [];

function newClient(): WeatherClient {
  const transports = ALL_TRANSPORTS.filter((kind) => boxes.get(kind)?.checked === true);
  return createWeatherClient({ baseUrl, transports: transports.length > 0 ? transports : ["websocket"] });
}

function rebuildClient(): void {
  stopSubscription();
  stopChat();
  weather.close();
  weather = newClient();
  // What the old client showed no longer describes the transports now ticked.
  for (const id of ["get-out", "report-out"]) show(element(id), "");
  element("chat-out").replaceChildren();
  element("readings").replaceChildren();
  element("state").textContent = "—";
  received.length = 0;
}

function describeError(e: unknown): string {
  const error = ConnectError.from(e);
  return `${Code[error.code]}: ${error.rawMessage}`;
}

function show(out: HTMLElement, text: string, failed = false): void {
  out.textContent = text;
  out.classList.toggle("error", failed);
}

function describeReading(r: WeatherResponse): string {
  const time = new Date(Number(r.timestamp)).toLocaleTimeString();
  return `${time}  ${r.temperature.toFixed(1)} °C, ${r.humidity.toFixed(0)} % humidity\n${r.description}`;
}

function describeState(s: SubscriptionState): string {
  switch (s.kind) {
    case "connecting":
      return `connecting over ${s.transport} (attempt ${s.attempt})`;
    case "open":
      return `open over ${s.transport}${s.recovered ? "" : " — readings were missed while away"}`;
    case "reconnecting": {
      const when = s.waitingFor === undefined ? `in ${Math.round(s.delayMs)} ms` : `once the page is ${s.waitingFor}`;
      return `reconnecting ${when} — attempt ${s.attempt} over ${s.transport} lost the stream: ${describeError(s.error)}`;
    }
    case "closed":
      if (s.reason === "closed") return "closed";
      if (s.reason === "completed") return "closed: the server ended the stream";
      return `closed: ${s.error === undefined ? "failed" : describeError(s.error)}`;
  }
}

element("get").addEventListener("click", () => {
  const out = element("get-out");
  show(out, "…");
  weather.getWeather({ cityCode: citySelect.value, extended: true }).then(
    (r) => show(out, `${describeReading(r)}\n(over ${weather.transport ?? "?"})`),
    (e: unknown) => show(out, describeError(e), true),
  );
});

element("subscribe").addEventListener("click", () => {
  stopSubscription();
  received.length = 0;
  const rows = element("readings");
  rows.replaceChildren();
  const sub = weather.subscribeWeather({ cityCode: citySelect.value });
  subscription = sub;
  sub.onState((s) => {
    element("state").textContent = describeState(s);
    button("unsubscribe").disabled = s.kind === "closed";
  });
  sub.onMessage((r) => {
    received.push(r);
    const row = document.createElement("tr");
    const cells = [
      new Date(Number(r.timestamp)).toLocaleTimeString(),
      r.temperature.toFixed(1),
      `${r.humidity.toFixed(0)} %`,
      r.description,
    ];
    row.append(...cells.map((text) => Object.assign(document.createElement("td"), { textContent: text })));
    rows.prepend(row);
    while (rows.children.length > SHOWN_READINGS) rows.lastElementChild?.remove();
  });
});

element("unsubscribe").addEventListener("click", stopSubscription);

function stopSubscription(): void {
  subscription?.close();
  subscription = undefined;
}

element("report").addEventListener("click", () => {
  const out = element("report-out");
  if (received.length === 0) {
    show(out, "Subscribe first: the readings it receives are what gets reported.", true);
    return;
  }
  show(out, "…");
  weather.reportBatch(received).then(
    (r) => show(out, `${r.description}: mean ${r.temperature.toFixed(2)} °C, ${r.humidity.toFixed(1)} % humidity`),
    (e: unknown) => show(out, describeError(e), true),
  );
});

element("chat-ask").addEventListener("click", () => {
  const out = element("chat-out");
  let requests = chat;
  if (requests === undefined) {
    out.replaceChildren();
    const opened = createWritableIterable<GetWeatherRequest>();
    requests = opened;
    chat = opened;
    button("chat-close").disabled = false;
    void (async () => {
      try {
        for await (const r of weather.weatherChat(opened)) {
          const item = document.createElement("li");
          item.textContent = describeReading(r).replace("\n", " · ");
          out.prepend(item);
        }
        out.prepend(Object.assign(document.createElement("li"), { textContent: "— the server ended the chat" }));
      } catch (e) {
        out.prepend(Object.assign(document.createElement("li"), { textContent: describeError(e), className: "error" }));
      } finally {
        if (chat === opened) stopChat();
      }
    })();
  }
  // A chat that already failed (no transport can do bidi) refuses the write; its error is shown above.
  void requests.write(create(GetWeatherRequestSchema, { cityCode: citySelect.value })).catch(() => undefined);
});

element("chat-close").addEventListener("click", stopChat);

function stopChat(): void {
  chat?.close();
  chat = undefined;
  button("chat-close").disabled = true;
}
