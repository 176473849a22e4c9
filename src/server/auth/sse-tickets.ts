import { Code, ConnectError } from "@connectrpc/connect";
import { type Clock, systemClock } from "../../clock.js";

/** Options of {@link createSseTickets}; every one has a default. */
export interface SseTicketOptions {
  /** How long a ticket may wait to be used. Default 30000 (30 s). */
  readonly ttlMs?: number;
  /** Most tickets issued and not yet used or expired; one more is `ResourceExhausted`. Default 10000. */
  readonly maxOutstanding?: number;
  /** Time source of the expiry. Default the system clock. */
  readonly clock?: Clock;
}

/** A ticket as the server hands it out. */
export interface IssuedTicket {
  /** 256 random bits, base64url: pass it as `?ticket=` on one SSE `GET`. */
  readonly ticket: string;
  /** How long it stays valid, in milliseconds. */
  readonly expiresInMs: number;
}

/**
 * Short-lived, single-use SSE tickets: a credential that may appear in a URL
 * (a plain `EventSource` cannot send headers) because it dies at its first
 * use or after `ttlMs`, whichever comes first. Kept in this process's memory:
 * behind a load balancer, route the ticket request and the `GET` to the same
 * instance, or have clients use `fetch`-based SSE with a header instead.
 */
export interface SseTickets {
  /** A new ticket standing for `principal`. @throws ConnectError `resource_exhausted` when `maxOutstanding` are waiting. */
  issue(principal: unknown): IssuedTicket;
  /** The principal of `ticket`, which is used up. @throws ConnectError `unauthenticated` for an unknown, used or expired ticket. */
  redeem(ticket: string): unknown;
  /** Tickets issued and neither used nor purged. */
  readonly outstanding: number;
}

interface Entry {
  readonly principal: unknown;
  readonly expiresAtMs: number;
}

/** Creates an in-memory ticket store (see {@link SseTickets}). @throws RangeError for a non-positive `ttlMs` or `maxOutstanding`. */
export function createSseTickets(options: SseTicketOptions = {}): SseTickets {
  const ttlMs = options.ttlMs ?? 30_000;
  const maxOutstanding = options.maxOutstanding ?? 10_000;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`SSE ticket ttlMs must be a positive number, got ${ttlMs}`);
  if (!Number.isSafeInteger(maxOutstanding) || maxOutstanding <= 0) {
    throw new RangeError(`SSE ticket maxOutstanding must be a positive integer, got ${maxOutstanding}`);
  }
  const clock = options.clock ?? systemClock;
  // Insertion order is expiry order (one ttl for all), so expired tickets are always at the front.
  const tickets = new Map<string, Entry>();

  const purgeExpired = (now: number): void => {
    for (const [ticket, entry] of tickets) {
      if (entry.expiresAtMs > now) return;
      tickets.delete(ticket);
    }
  };

  return {
    issue(principal) {
      const now = clock.now();
      purgeExpired(now);
      if (tickets.size >= maxOutstanding) {
        throw new ConnectError(`${maxOutstanding} SSE tickets are waiting to be used; try again shortly`, Code.ResourceExhausted);
      }
      const ticket = randomTicket();
      tickets.set(ticket, { principal, expiresAtMs: now + ttlMs });
      return { ticket, expiresInMs: ttlMs };
    },
    redeem(ticket) {
      const entry = tickets.get(ticket);
      if (entry === undefined) {
        throw new ConnectError("unknown or already used SSE ticket: get a new one with POST /sse/ticket", Code.Unauthenticated);
      }
      tickets.delete(ticket);
      if (entry.expiresAtMs <= clock.now()) {
        throw new ConnectError("the SSE ticket expired: get a new one with POST /sse/ticket and use it at once", Code.Unauthenticated);
      }
      return entry.principal;
    },
    get outstanding() {
      return tickets.size;
    },
  };
}

function randomTicket(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
