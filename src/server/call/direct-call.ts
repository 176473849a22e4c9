import { create, type DescMessage, type DescService, type Message, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createServiceImplSpec, type HandlerContext, type MethodImplSpec, type ServiceImpl } from "@connectrpc/connect";
import {
  createMethodSerializationLookup,
  invokeUnaryImplementation,
  mergeNonProtocolHeaders,
  type Serialization,
  transformInvokeImplementation,
  type UniversalHandlerOptions,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import { parseTimeout } from "@connectrpc/connect/protocol-connect";
import { ENVELOPE_HEADER_BYTES, envelope, forEachEnvelope } from "../../codec/tunnel/index.js";
import { DirectContext } from "./direct-context.js";
import { type CallInit, callMetadata, prepareRequestHeader, ServerCall, type UniversalCallSink } from "./server-call.js";

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
  /** Envelopes of frozen output messages: they cannot change, so one encoding serves every call that sends them. */
  readonly frozenEnvelopes: WeakMap<object, Uint8Array>;
  /**
   * The frozen message encoded last and its envelope: a fan-out sends one
   * reading to all its subscribers in a row, so this spares the `WeakMap`
   * lookup for all but the first.
   */
  readonly lastFrozen: { message: object | undefined; envelope: Uint8Array | undefined };
  /** The push form of a server-streaming method, used when no interceptor applies. */
  readonly push: PushImpl | undefined;
}

/**
 * Where a {@link PushImpl} delivers: the call itself, so a subscriber costs
 * no async generator, promise or closure per message.
 */
export interface PushSink {
  /**
   * Sends one response message. Returns false once the call wants no more
   * for now (flow control, or it is over): the stream keeps what arrives
   * after that (bounded) until {@link PushStream.resume}, or drops it once
   * the call ended.
   */
  send(message: MessageInitShape<DescMessage>): boolean;
  /** Ends the call: OK without `error`; otherwise as a handler that threw it. */
  close(error?: unknown): void;
}

/** A running push stream, as the call drives it. */
export interface PushStream {
  /** The sink takes messages again after {@link PushSink.send} returned false. */
  resume(): void;
  /** The call is over (ended, cancelled, or aborted): stop producing and let go of everything. */
  stop(): void;
}

/**
 * A server-streaming method in push form: instead of an async iterable, it
 * starts a stream that calls `sink.send` as messages arrive (from a
 * subscriber list, say) and returns at once. A transport that calls the
 * implementation directly (the tunnel, SSE) uses it when no interceptor
 * applies; connect's HTTP handlers and calls with interceptors keep the
 * async-iterable form, which must send the same messages. The request is
 * parsed; `ctx` is the call's context (its `signal` is made on first read,
 * which costs an `AbortController` and listeners: a push stream learns of the
 * end from {@link PushStream.stop} instead).
 * @throws whatever the async-iterable form would throw before its first message; the call ends with it.
 */
export type PushImpl = (request: Message, ctx: HandlerContext, sink: PushSink) => PushStream;

/**
 * Describes an implementation for transports to call directly, through
 * connect's own invocation (the same interceptors, handler context, limits
 * and error handling as its HTTP handlers) but without the HTTP protocol
 * layers around it: each streamed message passes through a few
 * async-iterator steps instead of connect's whole handler pipeline.
 *
 * Pass exactly the implementation and router options (`interceptors`,
 * `readMaxBytes`, `writeMaxBytes`, `binaryOptions`, `shutdownSignal`,
 * `maxTimeoutMs`, `requestGate`) the router was given for it, so every
 * transport serves the same thing.
 *
 * `push` gives server-streaming methods a push form ({@link PushImpl}) by
 * their local name (`subscribeWeather`), which these transports then call
 * instead of the async-iterable one when no interceptor applies.
 *
 * A response message the implementation returns or yields frozen
 * (`Object.freeze`) is encoded once and its bytes reused for every call that
 * sends the same object: freeze a message only when nothing in it, nested
 * messages and arrays included, changes afterwards.
 */
export function directService<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  routerOptions: Partial<UniversalHandlerOptions> = {},
  push: Partial<Record<keyof ServiceImpl<S>, PushImpl>> = {},
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
        frozenEnvelopes: new WeakMap(),
        lastFrozen: { message: undefined, envelope: undefined },
        push: m.kind === "server_streaming" ? (push as Record<string, PushImpl | undefined>)[m.method.localName] : undefined,
      };
    }),
  };
}

/**
 * Why a handler's signal aborts when its call ended normally: an `AbortError`
 * as with connect's handlers, made once (Node builds a `DOMException` with a
 * stack for every `abort()` without a reason) and frozen, since every call
 * shares it.
 */
const CALL_ENDED = Object.freeze(new DOMException("the call has ended", "AbortError"));
const noop = (): void => undefined;

/**
 * A call of a {@link DirectMethod} through connect's invocation, without the
 * HTTP protocol layers; it reports to the sink exactly what the universal
 * handler's call would for the same method.
 */
export class DirectCall extends ServerCall implements PushSink {
  private readonly method: DirectMethod;
  private readonly context: DirectContext;
  /** The handler's output: messages, or (unwrapped server streams) their init shapes. */
  private output: AsyncIterator<MessageInitShape<DescMessage>> | undefined;
  /** The stream of a method called in push form. */
  private pushed: PushStream | undefined;
  /** The request, until the handler starts (a view would keep the whole received message alive). */
  private input: CallInit["input"] | undefined;
  private readonly onError: (error: unknown) => void;

  constructor(init: CallInit, method: DirectMethod, sink: UniversalCallSink) {
    super(sink);
    this.method = method;
    this.input = init.input;
    this.onError = init.onError;
    const { spec, options } = method;
    const unary = spec.kind === "unary";
    const header = prepareRequestHeader(init.header, unary);
    const timeout = parseTimeout(header.get("connect-timeout-ms"), options.maxTimeoutMs);
    this.context = new DirectContext({
      method: spec.method,
      url: init.url,
      requestHeader: header,
      contentType: unary ? "application/proto" : "application/connect+proto",
      timeoutMs: timeout.timeoutMs,
      shutdownSignal: options.shutdownSignal,
      contextValues: init.contextValues,
    });
    const context = this.context;
    const gate = options.requestGate;
    // As in connect: a bad timeout fails a unary call before it runs, a stream when its handler reads the request.
    const run = unary ? () => this.runUnary(timeout.error) : () => this.startStream(timeout.error);
    // Started after this constructor returns, as the sink expects.
    const started = gate === undefined ? Promise.resolve() : (async () => gate(context))();
    started.then(run).catch((e: unknown) => this.end(e));
  }

  protected stop(reason: unknown): void {
    this.context.abort(reason);
    this.pushed?.stop();
    // A handler that ignores its signal stops at its next yield.
    this.output?.return?.(undefined).catch(noop);
  }

  protected responseHeader(): Headers | undefined {
    return this.context.peekResponseHeader();
  }

  private async runUnary(timeoutError: ConnectError | undefined): Promise<void> {
    const { spec, input } = this.method;
    const body = this.input;
    this.input = undefined;
    if (spec.kind !== "unary" || !(body instanceof Uint8Array)) throw new Error("unreachable: not a unary call");
    if (timeoutError !== undefined) throw timeoutError;
    const request = input.parse(body.subarray(ENVELOPE_HEADER_BYTES));
    const { interceptors } = this.method.options;
    // With no interceptor to apply, connect's invocation would only wrap the call in objects and closures.
    const response =
      interceptors.length === 0
        ? await spec.impl(request, this.context)
        : await invokeUnaryImplementation(spec, this.context, request, interceptors);
    if (this.done) return;
    this.emit(this.envelopeOf(response));
    this.end(undefined);
  }

  private startStream(timeoutError: ConnectError | undefined): void {
    const { spec, input, options } = this.method;
    const body = this.input;
    this.input = undefined;
    if (body === undefined) throw new Error("unreachable: a call starts once");
    if (spec.kind === "server_streaming" && options.interceptors.length === 0 && body instanceof Uint8Array && this.method.push) {
      // Fan-out at its cheapest: the implementation sends into this call from its subscriber list.
      if (timeoutError !== undefined) throw timeoutError;
      const pushed = this.method.push(input.parse(body.subarray(ENVELOPE_HEADER_BYTES)), this.context, this);
      if (this.done) pushed.stop();
      else this.pushed = pushed;
      return;
    }
    if (spec.kind === "server_streaming" && options.interceptors.length === 0 && body instanceof Uint8Array) {
      // The hot path of fan-out: with no interceptor to apply, connect's wrapper
      // would only add async-iterator hops (its `normalize` is done in pump).
      if (timeoutError !== undefined) throw timeoutError;
      this.output = spec.impl(input.parse(body.subarray(ENVELOPE_HEADER_BYTES)), this.context)[Symbol.asyncIterator]();
    } else {
      // Parsed lazily, inside the interceptors, as connect does: they see a request that does not parse.
      const messages =
        body instanceof Uint8Array
          ? parseSingle(body.subarray(ENVELOPE_HEADER_BYTES), input, timeoutError)
          : parseEnvelopes(body, input, timeoutError);
      this.output = transformInvokeImplementation(spec, this.context, options.interceptors)(messages)[Symbol.asyncIterator]();
    }
    if (this.done) {
      this.output.return?.(undefined).catch(noop);
      return;
    }
    void this.pump();
  }

  send(message: MessageInitShape<DescMessage>): boolean {
    if (this.done) return false;
    try {
      this.emit(this.envelopeOf(message));
    } catch (e) {
      this.close(e);
      return false;
    }
    return !this.paused && !this.done;
  }

  close(error?: unknown): void {
    if (this.done) return;
    this.pushed?.stop();
    this.end(error);
  }

  protected async pump(): Promise<void> {
    if (this.pushed !== undefined) {
      this.pushed.resume();
      return;
    }
    const it = this.output;
    if (it === undefined) return;
    while (!this.done && !this.paused) {
      let r: IteratorResult<MessageInitShape<DescMessage>>;
      try {
        r = await it.next();
      } catch (e) {
        this.end(e);
        return;
      }
      if (this.isDone()) return; // aborted while waiting
      if (r.done === true) {
        this.end(undefined);
        return;
      }
      try {
        this.emit(this.envelopeOf(r.value));
      } catch (e) {
        // The handler is still running (a message over writeMaxBytes, say): stop it, so its `finally` runs.
        it.return?.(undefined).catch(noop);
        this.end(e);
        return;
      }
    }
  }

  /** The envelope of one output message; a frozen message is encoded once for all calls. */
  private envelopeOf(value: MessageInitShape<DescMessage>): Uint8Array {
    const { output, frozenEnvelopes, lastFrozen, spec } = this.method;
    // Only a frozen message gets here as `message` (and an envelope), and a frozen one cannot have changed.
    if (value === lastFrozen.message && lastFrozen.envelope !== undefined) return lastFrozen.envelope;
    const frozen = Object.isFrozen(value);
    let encoded = frozen ? frozenEnvelopes.get(value) : undefined;
    if (encoded === undefined) {
      // create() returns a message of the schema as it is, as connect's normalize does.
      encoded = envelope(output.serialize(create(spec.method.output, value)));
      if (frozen) frozenEnvelopes.set(value, encoded);
    }
    if (frozen) {
      lastFrozen.message = value;
      lastFrozen.envelope = encoded;
    }
    return encoded;
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
    const context = this.context;
    let error: ConnectError | undefined;
    if (e !== undefined) {
      context.abort(e);
      error = this.encodable(e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e));
      if (!error.isWireError) {
        mergeNonProtocolHeaders(this.method.spec.kind === "unary" ? context.responseHeader : context.responseTrailer, error.metadata);
      }
    }
    this.endHeader(error);
    context.abort(CALL_ENDED);
    this.sink.end(error, callMetadata(context.peekResponseTrailer()));
  }

  /**
   * `error` with its details encoded now, so the sink cannot fail on them;
   * details that do not encode make it `Internal`, as over HTTP (where the
   * end-stream message fails to serialize), and are reported to `onError`.
   */
  private encodable(error: ConnectError): ConnectError {
    if (error.details.every((d) => "type" in d)) return error;
    try {
      const encoded = new ConnectError(error.rawMessage, error.code, error.metadata, undefined, error.cause);
      encoded.details = error.details.map((d) =>
        "type" in d ? d : { type: d.desc.typeName, value: toBinary(d.desc, create(d.desc, d.value)) },
      );
      return encoded;
    } catch (e) {
      this.onError(e);
      return new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    }
  }
}

/** The one request message of a server-streaming call, parsed when the handler asks for it. */
// eslint-disable-next-line @typescript-eslint/require-await -- connect takes an async iterable with throw(); there is nothing to await
async function* parseSingle(
  bytes: Uint8Array,
  input: Serialization<Message>,
  timeoutError: ConnectError | undefined,
): AsyncGenerator<Message> {
  if (timeoutError !== undefined) throw timeoutError;
  yield input.parse(bytes);
}

/** Request messages of a streaming-request call, parsed from whole envelopes as they arrive (the tunnel checked their framing). */
async function* parseEnvelopes(
  body: AsyncIterable<Uint8Array>,
  input: Serialization<Message>,
  timeoutError: ConnectError | undefined,
): AsyncGenerator<Message> {
  if (timeoutError !== undefined) throw timeoutError;
  const payloads: Uint8Array[] = [];
  for await (const chunk of body) {
    forEachEnvelope(chunk, 0, chunk.length, (_flags, start, end) => payloads.push(chunk.subarray(start, end)));
    // Parsed one at a time as the handler asks, so a message that does not parse fails only its own read.
    for (let i = 0; i < payloads.length; i++) yield input.parse(payloads[i] as Uint8Array);
    payloads.length = 0;
  }
}
