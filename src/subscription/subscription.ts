import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Clock } from "../clock.js";
import { backoffDelayMs, type ReconnectPolicy } from "./backoff.js";
import { isTransportOpenFailure } from "../transport/open-error.js";
import { Consumer, type ConsumerHost } from "./consumer.js";
import type { PageLifecycle } from "./page-lifecycle.js";
import type { SourceHandle, SourceSink, StreamSource } from "./source.js";
import type { SubscriptionState, TransportKind } from "./state.js";
import type { TransportChooser } from "./transport-chooser.js";
import type { HeadersInput } from "../fetch-types.js";

/**
 * A live, resumable server stream. Iterate it with `for await` (leaving the
 * loop closes it), or listen with `onMessage` on hot paths. Messages arrive
 * in order, at most once, and a gap is never silent: see `state`.
 */
export interface Subscription<T> extends AsyncIterable<T> {
  /** The current state; changes are reported to `onState` listeners. */
  readonly state: SubscriptionState;
  /** Cursor of the last message delivered; a reconnect resumes after it. */
  readonly cursor: bigint | undefined;
  /** Calls `listener` on every state change; returns a function that removes it. */
  onState(listener: (state: SubscriptionState) => void): () => void;
  /** Calls `listener` synchronously for every message (no promise per message); returns a function that removes it. */
  onMessage(listener: (message: T) => void): () => void;
  /**
   * While `reconnecting`, tries again at once instead of waiting out the
   * backoff delay (or for the page to be online/visible again); a "retry now"
   * button. Returns true when it started an attempt, false in any other state
   * (nothing to skip). The attempt counts as the next one in the backoff series.
   */
  reconnectNow(): boolean;
  /** Ends the subscription: state `closed`, loops finish, the stream is cancelled. */
  close(): void;
}

/** Everything a subscription runs on; the client builds it from its options. */
export interface SubscriptionConfig<I extends DescMessage, O extends DescMessage> {
  readonly source: (transport: TransportKind) => StreamSource<I, O>;
  readonly chooser: TransportChooser;
  readonly request: MessageInitShape<I>;
  /** Request headers for each attempt (called again on every reconnect, so fresh credentials are used). */
  readonly headers: () => HeadersInput | Promise<HeadersInput>;
  readonly cursor: (message: MessageShape<O>) => bigint;
  readonly resumeAfterHeader: string;
  readonly resumeStatusHeader: string;
  readonly policy: ReconnectPolicy;
  readonly clock: Clock;
  readonly random: () => number;
  readonly lifecycle: PageLifecycle;
  readonly signal: AbortSignal | undefined;
  readonly highWaterMark: number;
  /**
   * Start after this cursor, as a reconnect would: the first request carries the
   * resume header, so the server replays what followed it, and nothing at or
   * before it is delivered. The first `open` reports whether the server could
   * replay all of it (`recovered`).
   */
  readonly after?: bigint;
  /**
   * The client's credentials, when it has an `auth` option. An attempt that
   * ends with `Unauthenticated` asks for fresh ones: if they differ from
   * those the attempt used, the subscription retries once, at once; else it
   * closes with the error. Without it, `Unauthenticated` closes the subscription.
   */
  readonly credentials?: Credentials;
}

/** What a subscription needs of the client's credentials (`AuthSource`). */
export interface Credentials {
  /** Goes up each time the credentials were replaced. */
  readonly version: number;
  /** Resolves true when credentials newer than `version` are available. */
  refresh(version: number): Promise<boolean>;
}

const RETRYABLE: ReadonlySet<Code> = new Set([Code.Unavailable, Code.ResourceExhausted, Code.Aborted, Code.DeadlineExceeded]);

/** Creates a subscription; it starts connecting in a microtask, after the caller attached its listeners. */
export function createSubscription<I extends DescMessage, O extends DescMessage>(
  config: SubscriptionConfig<I, O>,
): Subscription<MessageShape<O>> {
  return new SubscriptionRunner(config);
}

class SubscriptionRunner<I extends DescMessage, O extends DescMessage> implements Subscription<MessageShape<O>>, ConsumerHost {
  state: SubscriptionState;
  cursor: bigint | undefined;
  private generation = 0;
  private attempt = 0;
  /** An `Unauthenticated` attempt already led to fresh credentials; another before an open closes the subscription. */
  private reauthenticated = false;
  /** The credentials' version when the current attempt started. */
  private credentialsVersion = 0;
  private handle: SourceHandle | undefined;
  private timer: unknown;
  private readonly listeners = new Set<(message: MessageShape<O>) => void>();
  private readonly stateListeners = new Set<(state: SubscriptionState) => void>();
  private readonly consumers = new Set<Consumer<MessageShape<O>>>();
  private readonly fullConsumers = new Set<Consumer<unknown>>();
  private readonly stopLifecycle: () => void;
  private readonly onAbort = () => this.finish("closed", undefined);

  constructor(private readonly config: SubscriptionConfig<I, O>) {
    this.cursor = config.after;
    let transport: TransportKind;
    try {
      transport = config.chooser.pick("server_streaming");
    } catch (e) {
      this.state = { kind: "closed", reason: "error", error: ConnectError.from(e) };
      this.stopLifecycle = () => undefined;
      return;
    }
    this.state = { kind: "connecting", transport, attempt: 1 };
    this.stopLifecycle = config.lifecycle.subscribe(() => this.lifecycleChanged());
    if (config.signal?.aborted) {
      this.finish("closed", undefined);
      return;
    }
    config.signal?.addEventListener("abort", this.onAbort, { once: true });
    queueMicrotask(() => this.connect());
  }

  onState(listener: (state: SubscriptionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onMessage(listener: (message: MessageShape<O>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reconnectNow(): boolean {
    if (this.state.kind !== "reconnecting") return false;
    this.connect();
    return true;
  }

  close(): void {
    this.finish("closed", undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<MessageShape<O>> {
    const consumer = new Consumer<MessageShape<O>>(this, this.config.highWaterMark);
    if (this.state.kind === "closed") {
      consumer.finish(this.state.error);
      return consumer;
    }
    this.consumers.add(consumer);
    return consumer;
  }

  backlog(consumer: Consumer<unknown>, full: boolean): void {
    const wasPaused = this.fullConsumers.size > 0;
    if (full) this.fullConsumers.add(consumer);
    else this.fullConsumers.delete(consumer);
    const paused = this.fullConsumers.size > 0;
    if (paused !== wasPaused) {
      if (paused) this.handle?.pause();
      else this.handle?.resume();
    }
  }

  left(): void {
    this.finish("closed", undefined);
  }

  private connect(): void {
    if (this.state.kind === "closed") return;
    this.config.clock.clearTimeout(this.timer);
    let transport: TransportKind;
    try {
      transport = this.config.chooser.pick("server_streaming");
    } catch (e) {
      this.finish("error", ConnectError.from(e));
      return;
    }
    const generation = ++this.generation;
    this.credentialsVersion = this.config.credentials?.version ?? 0;
    this.setState({ kind: "connecting", transport, attempt: this.attempt + 1 });
    const headers = this.config.headers();
    if (headers instanceof Promise) {
      headers.then(
        (h) => this.open(generation, transport, h),
        (e: unknown) => this.attemptEnded(generation, transport, ConnectError.from(e)),
      );
    } else {
      this.open(generation, transport, headers);
    }
  }

  private open(generation: number, transport: TransportKind, init: HeadersInit): void {
    if (generation !== this.generation) return;
    const { config } = this;
    const header = new Headers(init);
    if (this.cursor !== undefined) header.set(config.resumeAfterHeader, this.cursor.toString());
    const resuming = this.cursor !== undefined;
    const sink: SourceSink<MessageShape<O>> = {
      onOpen: (responseHeader) => {
        if (generation !== this.generation) return;
        config.chooser.opened(transport);
        this.attempt = 0;
        const recovered = !resuming || responseHeader.get(config.resumeStatusHeader) === "recovered";
        this.setState({ kind: "open", transport, since: config.clock.now(), recovered });
      },
      onMessage: (message) => {
        if (generation !== this.generation) return;
        const cursor = config.cursor(message);
        if (this.cursor !== undefined && cursor <= this.cursor) return; // already delivered
        this.cursor = cursor;
        // Messages prove the credentials worked (an HTTP stream may open before it is refused).
        this.reauthenticated = false;
        for (const listener of this.listeners) {
          try {
            listener(message);
          } catch (e) {
            reportListenerError(e);
          }
        }
        for (const consumer of this.consumers) consumer.push(message);
      },
      onEnd: (error) => this.attemptEnded(generation, transport, error),
    };
    this.handle = config.source(transport).open(config.request, header, sink);
    if (this.fullConsumers.size > 0) this.handle.pause();
  }

  private attemptEnded(generation: number, transport: TransportKind, error: ConnectError | undefined): void {
    if (generation !== this.generation) return;
    this.handle = undefined;
    if (error === undefined) {
      this.finish("completed", undefined);
      return;
    }
    if (isTransportOpenFailure(error) && this.config.chooser.failedToOpen(transport, "server_streaming")) {
      this.connect(); // another transport has not been tried yet: try it now
      return;
    }
    const credentials = this.config.credentials;
    if (error.code === Code.Unauthenticated && credentials !== undefined && !this.reauthenticated) {
      this.retryWithFreshCredentials(generation, error, credentials);
      return;
    }
    if (!RETRYABLE.has(error.code)) {
      this.finish("error", error);
      return;
    }
    this.attempt++;
    if (this.attempt >= this.config.policy.maxAttempts) {
      this.finish("error", error);
      return;
    }
    this.scheduleReconnect(transport, error);
  }

  /** Retries at once if the credentials changed; the same ones again would be refused again. */
  private retryWithFreshCredentials(generation: number, error: ConnectError, credentials: Credentials): void {
    this.reauthenticated = true;
    credentials.refresh(this.credentialsVersion).then(
      (fresh) => {
        if (generation !== this.generation) return;
        if (fresh) this.connect();
        else this.finish("error", error);
      },
      () => {
        if (generation === this.generation) this.finish("error", error);
      },
    );
  }

  private scheduleReconnect(transport: TransportKind, error: ConnectError): void {
    const { lifecycle, clock, policy, random } = this.config;
    const waitingFor = !lifecycle.online() ? "online" : !lifecycle.visible() ? "visible" : undefined;
    if (waitingFor !== undefined) {
      this.setState({ kind: "reconnecting", transport, attempt: this.attempt, delayMs: 0, error, waitingFor });
      return;
    }
    const delayMs = backoffDelayMs(policy, this.attempt, random);
    this.setState({ kind: "reconnecting", transport, attempt: this.attempt, delayMs, error });
    this.timer = clock.setTimeout(() => this.connect(), delayMs);
  }

  /** Online/offline or visibility changed: hold reconnects while offline or hidden, catch up at once after. */
  private lifecycleChanged(): void {
    const state = this.state;
    if (state.kind !== "reconnecting") return;
    const { lifecycle, clock } = this.config;
    const waitingFor = !lifecycle.online() ? "online" : !lifecycle.visible() ? "visible" : undefined;
    if (waitingFor !== undefined) {
      if (state.waitingFor !== waitingFor) {
        clock.clearTimeout(this.timer);
        this.setState({ ...state, delayMs: 0, waitingFor });
      }
      return;
    }
    if (state.waitingFor !== undefined) this.connect();
  }

  private finish(reason: "closed" | "completed" | "error", error: ConnectError | undefined): void {
    if (this.state.kind === "closed") return;
    this.generation++;
    this.handle?.cancel();
    this.handle = undefined;
    this.config.clock.clearTimeout(this.timer);
    this.stopLifecycle();
    this.config.signal?.removeEventListener("abort", this.onAbort);
    this.setState(error === undefined ? { kind: "closed", reason } : { kind: "closed", reason, error });
    for (const consumer of this.consumers) consumer.finish(error);
    this.consumers.clear();
  }

  private setState(state: SubscriptionState): void {
    this.state = state;
    for (const listener of this.stateListeners) {
      try {
        listener(state);
      } catch (e) {
        reportListenerError(e);
      }
    }
  }
}

/** A throwing listener must not break the stream for the others; surface its error asynchronously. */
function reportListenerError(e: unknown): void {
  queueMicrotask(() => {
    throw e;
  });
}
