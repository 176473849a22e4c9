// The other three call modes, on whatever client the page holds now.
import { create } from "@bufbuild/protobuf";
import { createWritableIterable, type WritableIterable } from "@connectrpc/connect/protocol";
import { type GetWeatherRequest, GetWeatherRequestSchema, type WeatherClient, type WeatherResponse } from "../src/index.js";
import { CITIES, readingAt } from "../src/testing/index.js";
import { describeError, describeReading } from "./describe.js";

export interface CallsHost {
  client(): WeatherClient;
  /** The city the selector shows. */
  selectedCity(): string;
  /** Recent readings the subscriptions delivered (what ReportBatch sends). */
  recentReadings(): readonly WeatherResponse[];
}

function el<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return found;
}

function show(out: HTMLElement, text: string, failed = false): void {
  out.textContent = text;
  out.classList.toggle("error", failed);
}

/**
 * The chat's answers carry no city; the simulated weather is a pure function
 * of (city, time), so the page finds which of the cities it asked has this
 * reading at this time.
 */
function cityOf(answer: WeatherResponse, asked: readonly string[]): string {
  const ms = Number(answer.timestamp);
  for (const code of asked) {
    const city = CITIES.get(code);
    if (city !== undefined && readingAt(city, ms, 1).temperature === answer.temperature) return code;
  }
  return "?";
}

export function setUpCalls(host: CallsHost): { stopChat(): void } {
  el("get", HTMLButtonElement).addEventListener("click", () => {
    const out = el("get-out", HTMLElement);
    show(out, "…");
    const started = performance.now();
    const weather = host.client();
    weather.getWeather({ cityCode: host.selectedCity(), extended: true }).then(
      (r) => show(out, `${describeReading(r)}\nover ${weather.transport ?? "?"} in ${(performance.now() - started).toFixed(1)} ms`),
      (e: unknown) => show(out, describeError(e), true),
    );
  });

  el("report", HTMLButtonElement).addEventListener("click", () => {
    const out = el("report-out", HTMLElement);
    const readings = host.recentReadings();
    if (readings.length === 0) {
      show(out, "Add a city first: the readings it receives are what gets reported.", true);
      return;
    }
    show(out, "…");
    const weather = host.client();
    weather.reportBatch(readings).then(
      (r) =>
        show(
          out,
          `${r.description}: mean ${r.temperature.toFixed(2)} °C, ${r.humidity.toFixed(1)} % humidity (over ${weather.transport ?? "?"})`,
        ),
      (e: unknown) => show(out, describeError(e), true),
    );
  });

  let chat: WritableIterable<GetWeatherRequest> | undefined;
  const asked: string[] = [];
  const closeButton = el("chat-close", HTMLButtonElement);
  const stopChat = () => {
    chat?.close();
    chat = undefined;
    closeButton.disabled = true;
  };
  const line = (text: string, className = "") => {
    const out = el("chat-out", HTMLElement);
    out.prepend(Object.assign(document.createElement("li"), { textContent: text, className }));
    while (out.children.length > 12) out.lastElementChild?.remove();
  };

  el("chat-ask", HTMLButtonElement).addEventListener("click", () => {
    let requests = chat;
    if (requests === undefined) {
      el("chat-out", HTMLElement).replaceChildren();
      asked.length = 0;
      const opened = createWritableIterable<GetWeatherRequest>();
      requests = chat = opened;
      closeButton.disabled = false;
      void (async () => {
        try {
          for await (const r of host.client().weatherChat(opened)) line(`${cityOf(r, asked)} · ${describeReading(r)}`);
          line("— the server ended the chat");
        } catch (e) {
          line(describeError(e), "error");
        } finally {
          if (chat === opened) stopChat();
        }
      })();
    }
    const code = host.selectedCity();
    if (!asked.includes(code)) asked.push(code);
    // A chat that already failed (no transport can do bidi) refuses the write; its error is shown above.
    void requests.write(create(GetWeatherRequestSchema, { cityCode: code })).catch(() => undefined);
  });
  closeButton.addEventListener("click", stopChat);
  return { stopChat };
}
