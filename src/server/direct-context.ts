import type { DescMethod } from "@bufbuild/protobuf";
import { type ContextValues, createContextValues, type HandlerContext } from "@connectrpc/connect";

/** What {@link createDirectContext} needs. */
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

/** The handler context of a direct call, and what the call needs from it. */
export interface DirectContext extends HandlerContext {
  /** Aborts `signal` with `reason` (the first reason wins; later calls do nothing). */
  abort(reason: unknown): void;
  /** The response header if anything asked for it, else undefined (nothing was set). */
  peekResponseHeader(): Headers | undefined;
  /** The response trailer if anything asked for it, else undefined (nothing was set). */
  peekResponseTrailer(): Headers | undefined;
}

/**
 * The `HandlerContext` connect's `createHandlerContext` would build for a
 * call, built on demand: its signal, response headers, trailers and values
 * only once something reads them. A unary handler that touches none of them
 * (most do not) costs no `AbortController`, no listener and no `Headers`,
 * which were most of the server's own work per tunnel call.
 *
 * The deadline is not enforced here: the caller aborts the context when it
 * passes (the tunnel does, for every kind of call). The properties are own
 * and enumerable, so a context connect copies for interceptors
 * (`Object.assign`) carries the same headers.
 */
export function createDirectContext(init: DirectContextInit): DirectContext {
  const deadline = init.timeoutMs === undefined ? undefined : Date.now() + init.timeoutMs;
  const shutdownSignal = init.shutdownSignal;
  let controller: AbortController | undefined;
  let ended = false;
  let endReason: unknown;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  let values = init.contextValues;
  const onShutdown = (): void => context.abort(shutdownSignal?.reason);
  const context: DirectContext = {
    method: init.method,
    service: init.method.parent,
    requestMethod: "POST",
    protocolName: "connect",
    url: init.url,
    requestHeader: init.requestHeader,
    timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
    get signal(): AbortSignal {
      if (controller !== undefined) return controller.signal;
      controller = new AbortController();
      if (ended) controller.abort(endReason);
      else if (shutdownSignal?.aborted === true) context.abort(shutdownSignal.reason);
      else shutdownSignal?.addEventListener("abort", onShutdown, { once: true });
      return controller.signal;
    },
    get responseHeader(): Headers {
      return (responseHeader ??= new Headers({ "content-type": init.contentType }));
    },
    get responseTrailer(): Headers {
      return (responseTrailer ??= new Headers());
    },
    get values(): ContextValues {
      return (values ??= createContextValues());
    },
    abort(reason: unknown): void {
      if (ended) return;
      ended = true;
      endReason = reason;
      if (controller === undefined) return;
      shutdownSignal?.removeEventListener("abort", onShutdown);
      controller.abort(reason);
    },
    peekResponseHeader: () => responseHeader,
    peekResponseTrailer: () => responseTrailer,
  };
  return context;
}
