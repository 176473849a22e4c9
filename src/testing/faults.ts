import { Code, ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { type Clock, sleep } from "../clock.js";
import type { TransportKind } from "../subscription/state.js";
import type { HeadersInput } from "../fetch-types.js";

/**
 * Request header the mocks put on every HTTP call they hand to the service,
 * naming the transport it came over; tunnel calls carry none. Only the mocks'
 * own fault interceptor reads it.
 */
export const MOCK_TRANSPORT_HEADER = "weather-mock-transport";

/** Where a fault applies. Every field left out matches anything. */
export interface FaultScope {
  /** Transports the fault applies to: one or several. */
  readonly transport?: TransportKind | readonly TransportKind[];
  /** Methods the fault applies to, by their TypeScript name (`"subscribeWeather"`) or RPC name (`"SubscribeWeather"`). */
  readonly method?: string | readonly string[];
}

/** A failure {@link Faults.fail} injects. */
export interface FailOptions extends FaultScope {
  /** The error message. Default: a message naming the mock. */
  readonly message?: string;
  /** Error details, as connect's `ConnectError` takes them. */
  readonly details?: ConstructorParameters<typeof ConnectError>[3];
  /** Response metadata (headers/trailers) of the error. */
  readonly metadata?: HeadersInput;
  /** How many matching calls fail; then calls pass again. Default 1; `Infinity` for every call until `reset()`. */
  readonly times?: number;
}

interface Rule extends FaultScope {
  remaining: number;
}
interface FailRule extends Rule {
  readonly kind: "fail";
  readonly code: Code;
  readonly message: string | undefined;
  readonly details: ConstructorParameters<typeof ConnectError>[3];
  readonly metadata: HeadersInput | undefined;
}
interface DelayRule extends Rule {
  readonly kind: "delay";
  readonly ms: number;
}
interface CutRule extends Rule {
  readonly kind: "cut";
  readonly afterMessages: number;
  readonly code: Code;
}
interface SlowRule extends Rule {
  readonly kind: "slow";
  readonly msPerMessage: number;
}
type FaultRule = FailRule | DelayRule | CutRule | SlowRule;

/** Per-call faults, applied by an interceptor inside the service: identical on every transport. */
export class CallFaults {
  private rules: FaultRule[] = [];

  constructor(private readonly clock: Clock) {}

  add(rule: FaultRule): void {
    if (!(rule.remaining > 0)) throw new RangeError(`fault times must be a positive number, got ${rule.remaining}`);
    this.rules.push(rule);
  }

  reset(): void {
    this.rules = [];
  }

  /** The interceptor that keeps the rules: delay, then fail, then wrap a stream (cut, slow). */
  readonly interceptor: Interceptor = (next) => async (req) => {
    const transport = (req.header.get(MOCK_TRANSPORT_HEADER) ?? "websocket") as TransportKind;
    req.header.delete(MOCK_TRANSPORT_HEADER);
    const names = [req.method.localName, req.method.name];
    const matching = this.take(transport, names);
    for (const rule of matching) {
      if (rule.kind === "delay") await sleep(this.clock, rule.ms, req.signal);
    }
    const fail = matching.find((r): r is FailRule => r.kind === "fail");
    if (fail !== undefined) {
      throw new ConnectError(
        fail.message ?? `failed by weather-sdk/testing (fail ${req.method.name} with ${Code[fail.code]})`,
        fail.code,
        fail.metadata,
        fail.details,
      );
    }
    const res = await next(req);
    if (!res.stream) return res;
    const cut = matching.find((r): r is CutRule => r.kind === "cut");
    const slow = matching.find((r): r is SlowRule => r.kind === "slow");
    if (cut === undefined && slow === undefined) return res;
    return { ...res, message: this.wrap(res, cut, slow, req.signal) } as typeof res;
  };

  /** The rules matching a call, each counted as used once. */
  private take(transport: TransportKind, names: readonly string[]): FaultRule[] {
    const out: FaultRule[] = [];
    for (const rule of this.rules) {
      if (!inScope(rule, transport, names)) continue;
      out.push(rule);
      rule.remaining--;
    }
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return out;
  }

  private async *wrap(res: StreamResponse, cut: CutRule | undefined, slow: SlowRule | undefined, signal: AbortSignal): AsyncGenerator {
    let sent = 0;
    const iterator = (res.message as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (cut !== undefined && sent >= cut.afterMessages) {
          throw new ConnectError(`stream cut by weather-sdk/testing after ${sent} messages`, cut.code);
        }
        const r = await iterator.next();
        if (r.done === true) return;
        if (slow !== undefined) await sleep(this.clock, slow.msPerMessage, signal);
        yield r.value;
        sent++;
      }
    } finally {
      await iterator.return?.();
    }
  }
}

function inScope(scope: FaultScope, transport: TransportKind, names: readonly string[]): boolean {
  const transports = scope.transport;
  if (transports !== undefined && !(typeof transports === "string" ? transports === transport : transports.includes(transport))) {
    return false;
  }
  const methods = scope.method;
  if (methods === undefined) return true;
  return names.some((n) => (typeof methods === "string" ? methods === n : methods.includes(n)));
}

/** Whether `transport` is one `scope` names (a scope without transports names all). */
export function transportInScope(scope: FaultScope, transport: TransportKind): boolean {
  const transports = scope.transport;
  return transports === undefined || (typeof transports === "string" ? transports === transport : transports.includes(transport));
}

/** Whether a fault's `times` is a positive count (`Infinity` allowed). */
export function timesOf(times: number | undefined): number {
  const n = times ?? 1;
  if (!(n > 0) || (Number.isFinite(n) && !Number.isInteger(n))) {
    throw new RangeError(`fault times must be a positive whole number or Infinity, got ${times}`);
  }
  return n;
}
