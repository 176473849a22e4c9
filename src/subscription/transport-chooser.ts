import { Code, ConnectError } from "@connectrpc/connect";
import type { TransportKind } from "./state.js";

/** The call kinds of protobuf methods, as protobuf-es names them. */
export type CallKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

const CAPABILITIES: Readonly<Record<TransportKind, readonly CallKind[]>> = {
  websocket: ["unary", "server_streaming", "client_streaming", "bidi_streaming"],
  connect: ["unary", "server_streaming"],
  "grpc-web": ["unary", "server_streaming"],
  sse: ["unary", "server_streaming"],
};

/** True when `transport` can carry calls of `kind` in a browser. */
export function canCarry(transport: TransportKind, kind: CallKind): boolean {
  return CAPABILITIES[transport].includes(kind);
}

/**
 * Picks the transport for each call and remembers what worked: calls go to
 * the preferred transport when it can carry them, otherwise to the first
 * listed one that can. A transport that fails to open hands over to the next
 * one; one that opened becomes the preferred choice until it fails to open.
 */
export interface TransportChooser {
  /** The transport to try for a call of `kind`. @throws ConnectError (Unimplemented) when none listed can. */
  pick(kind: CallKind): TransportKind;
  /** `transport` opened: prefer it from now on. */
  opened(transport: TransportKind): void;
  /**
   * `transport` never opened. Returns true when another transport that can
   * carry `kind` has not been tried since the last success (try it at once);
   * false when all have failed (back off before the next round).
   */
  failedToOpen(transport: TransportKind, kind: CallKind): boolean;
  /** The preferred transport, once one has opened. */
  readonly preferred: TransportKind | undefined;
}

export function createTransportChooser(order: readonly TransportKind[]): TransportChooser {
  let preferred: TransportKind | undefined;
  const failedThisRound = new Set<TransportKind>();
  const byKind = new Map<CallKind, readonly TransportKind[]>();
  /** The listed transports that can carry `kind`, in order (asked on every call, so kept). */
  const candidates = (kind: CallKind): readonly TransportKind[] => {
    let list = byKind.get(kind);
    if (list === undefined) byKind.set(kind, (list = order.filter((t) => canCarry(t, kind))));
    return list;
  };

  return {
    get preferred() {
      return preferred;
    },
    pick(kind) {
      const list = candidates(kind);
      const first = list[0];
      if (first === undefined) {
        const able = (Object.keys(CAPABILITIES) as TransportKind[]).filter((t) => canCarry(t, kind));
        throw new ConnectError(
          `no configured transport can make ${kind.replace("_", " ")} calls: transports are [${order.join(", ")}], and only [${able.join(", ")}] can; add one to the client's \`transports\` option`,
          Code.Unimplemented,
        );
      }
      if (preferred !== undefined && list.includes(preferred)) return preferred;
      return list.find((t) => !failedThisRound.has(t)) ?? first;
    },
    opened(transport) {
      preferred = transport;
      if (failedThisRound.size > 0) failedThisRound.clear();
    },
    failedToOpen(transport, kind) {
      failedThisRound.add(transport);
      if (preferred === transport) preferred = undefined;
      const untried = candidates(kind).find((t) => !failedThisRound.has(t));
      if (untried !== undefined) return true;
      failedThisRound.clear();
      return false;
    },
  };
}
