// Words for people: readings, errors and states as the page shows them.
import { Code, ConnectError } from "@connectrpc/connect";
import type { SubscriptionState, WeatherResponse } from "../src/index.js";

export function describeError(e: unknown): string {
  const error = ConnectError.from(e);
  return `${Code[error.code]}: ${error.rawMessage}`;
}

export function describeReading(r: WeatherResponse): string {
  const time = new Date(Number(r.timestamp)).toLocaleTimeString();
  return `${time} · ${r.temperature.toFixed(1)} °C, ${r.humidity.toFixed(0)} % humidity · ${r.description}`;
}

/** A short badge text: what a person needs at a glance. */
export function badgeOf(s: SubscriptionState): string {
  switch (s.kind) {
    case "connecting":
      return `Connecting · ${s.transport}`;
    case "open":
      return s.recovered ? `Live · ${s.transport}` : `Live · ${s.transport} · readings missed`;
    case "reconnecting":
      return s.waitingFor === undefined ? `Reconnecting · ${s.transport}` : `Paused until ${s.waitingFor} · ${s.transport}`;
    case "closed":
      return s.reason === "error" ? "Stopped · error" : "Stopped";
  }
}

/** The long form, for the details panel. */
export function detailOf(s: SubscriptionState): string {
  switch (s.kind) {
    case "connecting":
      return `opening a stream over ${s.transport} (attempt ${s.attempt})`;
    case "open":
      return `open over ${s.transport} since ${new Date(s.since).toLocaleTimeString()}${
        s.recovered ? "" : "; the server could not replay everything missed (recovered: false)"
      }`;
    case "reconnecting":
      return `attempt ${s.attempt} over ${s.transport} lost the stream: ${describeError(s.error)}`;
    case "closed":
      return s.error === undefined ? `closed (${s.reason})` : `closed: ${describeError(s.error)}`;
  }
}
