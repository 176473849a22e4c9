import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { type ContextValues, createContextValues, type HandlerContext } from "@connectrpc/connect";

/** What {@link DirectContext} needs. */
export interface DirectContextInit {
  readonly method: DescMethod;
  readonly url: string;
  /** The call's request header, used as it is (not copied). */
  readonly requestHeader: Headers;
  /** Content type of the response, as connect's handlers put it in `responseHeader`. */
  readonly contentType: string;
  /** Validated `connect-timeout-ms`, for `timeoutMs()`. */
  readonly timeoutMs: number | undefined;
  readonly shutdownSignal: AbortSignal | undefined;
  readonly contextValues: ContextValues | undefined;
}

const noDeadline = (): undefined => undefined;

/**
 * The `HandlerContext` connect's `createHandlerContext` would build for a
 * call, built on demand: its signal, response headers, trailers and values
 * only once something reads them. A unary handler that touches none of them
 * (most do not) costs no `AbortController`, no listener and no `Headers`,
 * which were most of the server's own work per tunnel call.
 *
 * Those four are getters on the class, so one hidden class serves every
 * call. (An object literal with getters took a new one per call, and the
 * closures it held kept each call's objects alive through young-generation
 * GCs: the server promoted about 2.5 KB per unary call.) Connect copies a
 * context with `Object.assign` when it runs interceptors, which skips
 * getters: give it {@link DirectContext.materialize} there.
 *
 * The deadline is not enforced here: the caller aborts the context when it
 * passes (the tunnel does, for every kind of call).
 */
export class DirectContext implements HandlerContext {
  readonly method: DescMethod;
  readonly service: DescService;
  readonly requestMethod = "POST";
  readonly protocolName = "connect";
  readonly url: string;
  readonly requestHeader: Headers;
  readonly timeoutMs: () => number | undefined;
  private controller: AbortController | undefined;
  private ended = false;
  private endReason: unknown;
  private header: Headers | undefined;
  private trailer: Headers | undefined;
  private contextValues: ContextValues | undefined;
  private onShutdown: (() => void) | undefined;

  constructor(private readonly init: DirectContextInit) {
    this.method = init.method;
    this.service = init.method.parent;
    this.url = init.url;
    this.requestHeader = init.requestHeader;
    this.contextValues = init.contextValues;
    if (init.timeoutMs === undefined) {
      this.timeoutMs = noDeadline;
    } else {
      const deadline = Date.now() + init.timeoutMs;
      this.timeoutMs = () => deadline - Date.now();
    }
  }

  get signal(): AbortSignal {
    if (this.controller !== undefined) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    const shutdownSignal = this.init.shutdownSignal;
    if (this.ended) {
      controller.abort(this.endReason);
    } else if (shutdownSignal?.aborted === true) {
      this.abort(shutdownSignal.reason);
    } else if (shutdownSignal !== undefined) {
      this.onShutdown = () => this.abort(shutdownSignal.reason);
      shutdownSignal.addEventListener("abort", this.onShutdown, { once: true });
    }
    return controller.signal;
  }

  get responseHeader(): Headers {
    return (this.header ??= new Headers({ "content-type": this.init.contentType }));
  }

  get responseTrailer(): Headers {
    return (this.trailer ??= new Headers());
  }

  get values(): ContextValues {
    return (this.contextValues ??= createContextValues());
  }

  /** Aborts `signal` with `reason` (the first reason wins; later calls do nothing). */
  abort(reason: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = reason;
    if (this.onShutdown !== undefined) this.init.shutdownSignal?.removeEventListener("abort", this.onShutdown);
    this.controller?.abort(reason);
  }

  /** The response header if anything asked for it, else undefined (nothing was set). */
  peekResponseHeader(): Headers | undefined {
    return this.header;
  }

  /** The response trailer if anything asked for it, else undefined (nothing was set). */
  peekResponseTrailer(): Headers | undefined {
    return this.trailer;
  }

  /** A plain object with every property of this context, sharing its signal, headers and values. */
  materialize(): HandlerContext {
    return {
      method: this.method,
      service: this.service,
      requestMethod: this.requestMethod,
      protocolName: this.protocolName,
      url: this.url,
      requestHeader: this.requestHeader,
      timeoutMs: this.timeoutMs,
      signal: this.signal,
      responseHeader: this.responseHeader,
      responseTrailer: this.responseTrailer,
      values: this.values,
    };
  }
}
