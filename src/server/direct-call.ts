import type { DescService, Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createHandlerContext,
  createServiceImplSpec,
  type HandlerContext,
  type MethodImplSpec,
  type ServiceImpl,
} from "@connectrpc/connect";
import {
  createAsyncIterable,
  createMethodSerializationLookup,
  invokeUnaryImplementation,
  mergeNonProtocolHeaders,
  type Serialization,
  transformInvokeImplementation,
  type UniversalHandlerOptions,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import { parseTimeout } from "@connectrpc/connect/protocol-connect";
import { prepareRequestHeader, type UniversalCall, type UniversalCallSink, withoutHttpFields } from "./universal-call.js";

/**
 * A service implementation that a non-HTTP transport (the WebSocket tunnel)
 * may call directly; made by {@link directService}.
 */
export interface DirectService {
  readonly methods: readonly DirectMethod[];
}

/** One method of a {@link DirectService}, ready to call. */
export interface DirectMethod {
  /** `/package.Service/Method` */
  readonly requestPath: string;
  readonly spec: MethodImplSpec;
  readonly options: ReturnType<typeof validateUniversalHandlerOptions>;
  readonly input: Serialization<Message>;
  readonly output: Serialization<Message>;
}

/**
 * Describes an implementation for transports to call directly, through
 * connect's own invocation (the same interceptors, handler context, limits
 * and error handling as its HTTP handlers) but without the HTTP protocol
 * layers around it: connect's handler pipeline costs about 15 async-iterator
 * hops per streamed message, the direct call three.
 *
 * Pass exactly the implementation and router options (`interceptors`,
 * `readMaxBytes`, `writeMaxBytes`, `binaryOptions`, `shutdownSignal`,
 * `maxTimeoutMs`, `requestGate`) the router was given for it, so every
 * transport serves the same thing.
 */
export function directService<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  routerOptions: Partial<UniversalHandlerOptions> = {},
): DirectService {
  const options = validateUniversalHandlerOptions(routerOptions);
  const spec = createServiceImplSpec(service, impl);
  return {
    methods: Object.values(spec.methods).map((m) => {
      const serialization = createMethodSerializationLookup(m.method, options.binaryOptions, options.jsonOptions, options);
      return {
        requestPath: `/${service.typeName}/${m.method.name}`,
        spec: m,
        options,
        input: serialization.getI(true),
        output: serialization.getO(true),
      };
    }),
  };
}

/** A call for {@link startDirectCall}: binary Connect, like {@link UniversalCallInit}. */
export interface DirectCallInit {
  readonly method: DirectMethod;
  /** Absolute URL of the call, as handlers see it in `ctx.url`. */
  readonly url: string;
  /** Client metadata; HTTP-level fields are replaced as for universal calls. Modified in place. */
  readonly header: Headers;
  /** Unary and server streaming: the request message's bytes. Other kinds: whole Connect envelopes, any number per chunk. */
  readonly input: Uint8Array | AsyncIterable<Uint8Array>;
  readonly contextValues?: ContextValues;
}

/**
 * Why a handler's signal aborts when its call ended normally. Connect aborts
 * with no reason there, which makes Node build a `DOMException` (with a stack)
 * on every call; one shared reason costs nothing.
 */
const CALL_ENDED = new ConnectError("the call has ended", Code.Canceled);
const ENVELOPE_HEADER_BYTES = 5;
const noop = (): void => undefined;

/**
 * Calls a {@link DirectMethod} and reports to `sink` exactly what
 * {@link startUniversalCall} would for the same handler: headers with the
 * first message (or at the end), whole envelopes, the end with trailers.
 */
export function startDirectCall(init: DirectCallInit, sink: UniversalCallSink): UniversalCall {
  return new DirectCall(init, sink);
}

class DirectCall implements UniversalCall {
  private readonly controller = new AbortController();
  private readonly context: HandlerContext & { abort(reason?: unknown): void };
  private output: AsyncIterator<Message> | undefined;
  private headerSent = false;
  private done = false;
  private paused = false;

  constructor(
    private readonly init: DirectCallInit,
    private readonly sink: UniversalCallSink,
  ) {
    const { spec, options } = init.method;
    const unary = spec.kind === "unary";
    const header = prepareRequestHeader(init.header, unary);
    const timeout = parseTimeout(header.get("connect-timeout-ms"), options.maxTimeoutMs);
    this.context = createHandlerContext({
      ...spec,
      service: spec.method.parent,
      requestMethod: "POST",
      protocolName: "connect",
      timeoutMs: timeout.timeoutMs,
      shutdownSignal: options.shutdownSignal,
      requestSignal: this.controller.signal,
      requestHeader: header,
      url: init.url,
      contextValues: init.contextValues,
    });
    const context = this.context;
    const started = (async () => {
      if (options.requestGate !== undefined) await options.requestGate(context);
      if (timeout.error !== undefined) throw timeout.error;
    })();
    if (unary) {
      started.then(() => this.runUnary()).catch((e: unknown) => this.end(e));
    } else {
      started.then(() => this.startStream()).catch((e: unknown) => this.end(e));
    }
  }

  resume(): void {
    if (!this.paused || this.done) return;
    this.paused = false;
    void this.pump();
  }

  abort(reason: ConnectError): void {
    if (this.done) return;
    this.done = true;
    this.controller.abort(reason);
    // A handler that ignores its signal stops at its next yield.
    this.output?.return?.(undefined).catch(noop);
  }

  private async runUnary(): Promise<void> {
    const { spec, input, output } = this.init.method;
    if (spec.kind !== "unary" || !(this.init.input instanceof Uint8Array)) throw new Error("unreachable: not a unary call");
    const request = input.parse(this.init.input);
    const response = await invokeUnaryImplementation(spec, this.context, request, this.init.method.options.interceptors);
    if (this.done) return;
    this.emit(output.serialize(response));
    this.end(undefined);
  }

  private startStream(): void {
    const { spec, input } = this.init.method;
    const body = this.init.input;
    const messages = body instanceof Uint8Array ? createAsyncIterable([input.parse(body)]) : parseEnvelopes(body, input);
    this.output = transformInvokeImplementation(spec, this.context, this.init.method.options.interceptors)(messages)[Symbol.asyncIterator]();
    if (this.done) {
      this.output.return?.(undefined).catch(noop);
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    const it = this.output;
    if (it === undefined) return;
    try {
      while (!this.done && !this.paused) {
        const r = await it.next();
        if (this.isDone()) return; // aborted while waiting
        if (r.done === true) {
          this.end(undefined);
          return;
        }
        this.emit(this.init.method.output.serialize(r.value));
      }
    } catch (e) {
      this.end(e);
    }
  }

  private isDone(): boolean {
    return this.done;
  }

  /** Sends one message as an envelope, with the response headers before the first. */
  private emit(message: Uint8Array): void {
    this.sendHeader();
    const envelope = new Uint8Array(ENVELOPE_HEADER_BYTES + message.length);
    const length = message.length;
    envelope[1] = length >>> 24;
    envelope[2] = (length >>> 16) & 0xff;
    envelope[3] = (length >>> 8) & 0xff;
    envelope[4] = length & 0xff;
    envelope.set(message, ENVELOPE_HEADER_BYTES);
    if (!this.sink.data(envelope)) this.paused = true;
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    // A copy: what the handler sets after its first message is not sent, as over HTTP.
    this.sink.headers(withoutHttpFields(new Headers(this.context.responseHeader)));
  }

  /**
   * Ends the call as connect's handlers do: anything but a `ConnectError` is
   * `Internal`; the error's own metadata joins the trailers (streams) or the
   * headers (unary); headers not yet sent go out unless an error ends a call
   * that set none.
   */
  private end(e: unknown): void {
    if (this.done) return;
    this.done = true;
    const trailers = this.context.responseTrailer;
    let error: ConnectError | undefined;
    if (e !== undefined) {
      error = e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
      this.context.abort(e);
      if (!error.isWireError) {
        mergeNonProtocolHeaders(this.init.method.spec.kind === "unary" ? this.context.responseHeader : trailers, error.metadata);
      }
    }
    if (!this.headerSent && (error === undefined || !isEmpty(withoutHttpFields(new Headers(this.context.responseHeader))))) this.sendHeader();
    this.context.abort(CALL_ENDED);
    this.sink.end(error, withoutHttpFields(new Headers(trailers)));
  }
}

/** Request messages of a streaming-request call, parsed from whole envelopes as they arrive. */
async function* parseEnvelopes(body: AsyncIterable<Uint8Array>, input: Serialization<Message>): AsyncGenerator<Message> {
  for await (const chunk of body) {
    let pos = 0;
    while (pos < chunk.length) {
      const length = (((chunk[pos + 1] as number) << 24) >>> 0) + ((chunk[pos + 2] as number) << 16) + ((chunk[pos + 3] as number) << 8) + (chunk[pos + 4] as number);
      const start = pos + ENVELOPE_HEADER_BYTES;
      yield input.parse(chunk.subarray(start, start + length));
      pos = start + length;
    }
  }
}

function isEmpty(header: Headers): boolean {
  for (const _ of header.keys()) return false;
  return true;
}
