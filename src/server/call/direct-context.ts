import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, createContextValues, type HandlerContext } from "@connectrpc/connect";

/** What {@link DirectContext} needs. */
export interface DirectContextInit {
  readonly method: DescMethod;
  readonly url: string;
  /** The call's request header, used as it is (not copied). */
  readonly requestHeader: Headers;
  /** Content type of the response, as connect's handlers put it in `responseHeader`. */
  readonly contentType: string;
  /** Validated `connect-timeout-ms`, for `timeoutMs()`; 0 has passed already. */
  readonly timeoutMs: number | undefined;
  readonly shutdownSignal: AbortSignal | undefined;
  readonly contextValues: ContextValues | undefined;
}

const noDeadline = (): undefined => undefined;

/**
 * The `HandlerContext` connect's `createHandlerContext` would build for a
 * call, built on demand: its signal, response headers, trailers and values
 * only once something reads them. A unary handler that touches none of them
 * (most do not) costs no `AbortController`, no listener and no `Headers`.
 *
 * Those four are own, enumerable accessors, so spreading the context or
 * `Object.assign` (as connect does for interceptors) copies them as values,
 * as with connect's plain-object context. Every instance gets the same
 * accessor functions in the same order, so all share one hidden class and no
 * per-call closure keeps a call's objects alive; an object literal with
 * getters would have neither property. The state behind them is `#private`,
 * invisible to copies.
 *
 * The deadline is not enforced here: the caller aborts the context when it
 * passes (the tunnel does, for every kind of call). A deadline of 0 has
 * passed already, as in connect.
 */
export class DirectContext implements HandlerContext {
  declare readonly signal: AbortSignal;
  declare readonly responseHeader: Headers;
  declare readonly responseTrailer: Headers;
  declare readonly values: ContextValues;
  readonly method: DescMethod;
  readonly service: DescService;
  readonly requestMethod = "POST";
  readonly protocolName = "connect";
  readonly url: string;
  readonly requestHeader: Headers;
  readonly timeoutMs: () => number | undefined;
  readonly #init: DirectContextInit;
  #controller: AbortController | undefined;
  #ended = false;
  #endReason: unknown;
  #header: Headers | undefined;
  #trailer: Headers | undefined;
  #values: ContextValues | undefined;
  #onShutdown: (() => void) | undefined;

  /** The four lazy properties, the same functions for every instance. */
  static readonly #lazy: PropertyDescriptorMap = {
    signal: {
      enumerable: true,
      configurable: true,
      get(this: DirectContext): AbortSignal {
        return this.#signal();
      },
    },
    responseHeader: {
      enumerable: true,
      configurable: true,
      get(this: DirectContext): Headers {
        return (this.#header ??= new Headers({ "content-type": this.#init.contentType }));
      },
    },
    responseTrailer: {
      enumerable: true,
      configurable: true,
      get(this: DirectContext): Headers {
        return (this.#trailer ??= new Headers());
      },
    },
    values: {
      enumerable: true,
      configurable: true,
      get(this: DirectContext): ContextValues {
        return (this.#values ??= createContextValues());
      },
    },
  };

  constructor(init: DirectContextInit) {
    this.#init = init;
    this.method = init.method;
    this.service = init.method.parent;
    this.url = init.url;
    this.requestHeader = init.requestHeader;
    this.#values = init.contextValues;
    if (init.timeoutMs === undefined) {
      this.timeoutMs = noDeadline;
    } else {
      const deadline = Date.now() + init.timeoutMs;
      this.timeoutMs = () => deadline - Date.now();
      if (init.timeoutMs <= 0) this.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
    }
    Object.defineProperties(this, DirectContext.#lazy);
  }

  /**
   * Aborts `signal` with `reason`. The first reason wins, a shutdown that came
   * before counting as first (as with connect's linked signals).
   */
  abort(reason: unknown): void {
    if (this.#ended) return;
    const shutdownSignal = this.#init.shutdownSignal;
    this.#ended = true;
    this.#endReason = this.#controller === undefined && shutdownSignal?.aborted === true ? shutdownSignal.reason : reason;
    if (this.#onShutdown !== undefined) shutdownSignal?.removeEventListener("abort", this.#onShutdown);
    this.#onShutdown = undefined;
    this.#controller?.abort(this.#endReason);
  }

  /** The response header if anything asked for it, else undefined (nothing was set). */
  peekResponseHeader(): Headers | undefined {
    return this.#header;
  }

  /** The response trailer if anything asked for it, else undefined (nothing was set). */
  peekResponseTrailer(): Headers | undefined {
    return this.#trailer;
  }

  #signal(): AbortSignal {
    if (this.#controller !== undefined) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    const shutdownSignal = this.#init.shutdownSignal;
    if (this.#ended) {
      controller.abort(this.#endReason);
    } else if (shutdownSignal?.aborted === true) {
      this.abort(shutdownSignal.reason);
    } else if (shutdownSignal !== undefined) {
      this.#onShutdown = () => this.abort(shutdownSignal.reason);
      shutdownSignal.addEventListener("abort", this.#onShutdown, { once: true });
    }
    return controller.signal;
  }
}
