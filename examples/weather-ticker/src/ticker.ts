import { createWeatherClient, type TransportKind, type WeatherClientOptions } from "weather-sdk";

/** Options of {@link mountTicker}. */
export interface TickerOptions extends Pick<WeatherClientOptions, "baseUrl" | "clock" | "random"> {
  readonly cityCode: string;
  readonly transports?: readonly TransportKind[];
}

/**
 * A live weather ticker: the city's readings as a list, newest first, and a
 * status line saying which transport carries them and how many times the
 * connection came back. Returns a function that stops it.
 */
export function mountTicker(root: HTMLElement, options: TickerOptions): () => void {
  const weather = createWeatherClient({
    baseUrl: options.baseUrl,
    transports: options.transports,
    clock: options.clock,
    random: options.random,
  });
  root.innerHTML = `<p role="status">connecting…</p><p class="reconnects">reconnected 0 times</p><ol aria-label="readings"></ol>`;
  const status = root.querySelector<HTMLElement>("[role=status]");
  const reconnects = root.querySelector<HTMLElement>(".reconnects");
  const list = root.querySelector<HTMLElement>("ol");
  let opened = 0;

  const sub = weather.subscribeWeather({ cityCode: options.cityCode });
  sub.onState((state) => {
    if (status === null || reconnects === null) return;
    if (state.kind === "open") {
      opened++;
      status.textContent = `live over ${state.transport}`;
      reconnects.textContent = `reconnected ${opened - 1} time${opened === 2 ? "" : "s"}`;
    } else if (state.kind === "reconnecting") {
      status.textContent = `reconnecting (${state.error.rawMessage})`;
    } else if (state.kind === "closed") {
      status.textContent = state.error === undefined ? "stopped" : `stopped: ${state.error.rawMessage}`;
    }
  });
  sub.onMessage((reading) => {
    const item = document.createElement("li");
    item.dataset["timestamp"] = reading.timestamp.toString();
    item.textContent = `${new Date(Number(reading.timestamp)).toISOString().slice(11, 19)} ${reading.temperature.toFixed(1)} °C`;
    list?.prepend(item);
  });
  return () => {
    sub.close();
    weather.close();
  };
}
