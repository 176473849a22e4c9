import { type DescMessage, type DescMethodStreaming, type DescMethodUnary, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { StreamHandler, ClientTunnelStream } from "./stream-handler.js";

/** A unary call's answer. Headers and trailers that did not come are made (empty) only when read. */
export class UnaryAnswer<O extends DescMessage> {
  constructor(
    private headerOf: Headers | undefined,
    readonly message: MessageShape<O>,
    private trailerOf: Headers | undefined,
  ) {}

  get header(): Headers {
    return (this.headerOf ??= new Headers());
  }

  get trailer(): Headers {
    return (this.trailerOf ??= new Headers());
  }
}

/** Collects the single response of a unary call. */
export class UnaryCall<I extends DescMessage, O extends DescMessage> implements StreamHandler {
  stream: ClientTunnelStream | undefined;
  private header: Headers | undefined;
  private message: MessageShape<O> | undefined;
  private failure: ConnectError | undefined;

  constructor(
    private readonly method: DescMethodUnary<I, O>,
    private readonly resolve: (answer: UnaryAnswer<O>) => void,
    private readonly reject: (error: ConnectError) => void,
  ) {}

  onHeaders(headers: Headers | undefined): void {
    this.header = headers;
  }

  onMessage(buf: Uint8Array, start: number, end: number): void {
    this.stream?.consumed(end - start);
    if (this.message !== undefined) {
      this.failure ??= new ConnectError("protocol error: received extra output message for unary method", Code.Unimplemented);
      return;
    }
    try {
      this.message = fromBinary(this.method.output, buf.subarray(start, end));
    } catch (e) {
      this.failure ??= new ConnectError(
        `failed to decode ${this.method.output.typeName}: ${String(e)}`,
        Code.Internal,
        undefined,
        undefined,
        e,
      );
    }
  }

  onEnd(error: ConnectError | undefined, trailer: Headers | undefined): void {
    const failure = error ?? this.failure;
    if (failure !== undefined) this.reject(failure);
    else if (this.message === undefined)
      this.reject(new ConnectError("protocol error: missing output message for unary method", Code.Unimplemented));
    else this.resolve(new UnaryAnswer(this.header, this.message, trailer));
  }
}

/**
 * The response side of a streaming call: an async iterator over messages,
 * decoded when the consumer pulls them, so a slow consumer holds back the
 * stream's credit rather than growing a queue without bound.
 */
export class StreamCall<I extends DescMessage, O extends DescMessage> implements StreamHandler, AsyncIterator<MessageShape<O>> {
  stream: ClientTunnelStream | undefined;
  readonly trailer = new Headers();
  /** Resolves with the response headers once anything arrived; rejects when the call failed first. */
  readonly header: Promise<Headers>;
  private headerSettled = false;
  private resolveHeader!: (headers: Headers) => void;
  private rejectHeader!: (error: ConnectError) => void;
  private readonly queue: Uint8Array[] = [];
  private head = 0;
  private ended = false;
  private error: ConnectError | undefined;
  private waiting: { resolve: (r: IteratorResult<MessageShape<O>>) => void; reject: (e: unknown) => void } | undefined;

  constructor(private readonly method: DescMethodStreaming<I, O>) {
    this.header = new Promise<Headers>((resolve, reject) => {
      this.resolveHeader = resolve;
      this.rejectHeader = reject;
    });
  }

  onHeaders(headers: Headers | undefined): void {
    this.settleHeader(headers ?? new Headers());
  }

  onMessage(buf: Uint8Array, start: number, end: number): void {
    this.settleHeader(new Headers());
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      try {
        waiting.resolve(this.decode(buf.subarray(start, end)));
      } catch (e) {
        waiting.reject(e);
      }
    } else {
      this.queue.push(buf.subarray(start, end));
    }
  }

  onEnd(error: ConnectError | undefined, trailer: Headers | undefined): void {
    trailer?.forEach((value, key) => this.trailer.append(key, value));
    this.end(error);
  }

  /** Ends the call from this side (abort, failed request stream); the caller cancels the tunnel stream. */
  end(error: ConnectError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    if (error !== undefined && !this.headerSettled) {
      this.headerSettled = true;
      this.rejectHeader(error);
    } else {
      this.settleHeader(new Headers());
    }
    const waiting = this.waiting;
    if (waiting !== undefined && this.head >= this.queue.length) {
      this.waiting = undefined;
      if (error !== undefined) waiting.reject(error);
      else waiting.resolve({ done: true, value: undefined });
    }
  }

  /** True once the call has ended, from either side. */
  isEnded(): boolean {
    return this.ended;
  }

  next(): Promise<IteratorResult<MessageShape<O>>> {
    if (this.head < this.queue.length) {
      const view = this.queue[this.head] as Uint8Array;
      this.head++;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      try {
        return Promise.resolve(this.decode(view));
      } catch (e) {
        return Promise.reject(ConnectError.from(e));
      }
    }
    if (this.ended) {
      return this.error !== undefined ? Promise.reject(this.error) : Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<MessageShape<O>> {
    return this;
  }

  /** Decodes one delivered message and returns its credit; a message that does not decode fails the call. */
  private decode(view: Uint8Array): IteratorResult<MessageShape<O>> {
    this.stream?.consumed(view.length);
    try {
      return { done: false, value: fromBinary(this.method.output, view) };
    } catch (e) {
      const error = new ConnectError(
        `failed to decode ${this.method.output.typeName}: ${String(e)}`,
        Code.Internal,
        undefined,
        undefined,
        e,
      );
      this.stream?.cancel();
      this.end(error);
      throw error;
    }
  }

  private settleHeader(headers: Headers): void {
    if (this.headerSettled) return;
    this.headerSettled = true;
    this.resolveHeader(headers);
  }
}
