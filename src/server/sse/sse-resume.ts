import type { DescMessage, DescMethod, DescMethodServerStreaming, DescMethodUnary, Message, MessageShape } from "@bufbuild/protobuf";

/**
 * How one method takes part in SSE resumption: which cursor each message
 * carries as its `id:`, and which request header a `Last-Event-ID` becomes.
 * Build it with {@link sseResume}.
 */
export interface SseResume {
  readonly method: DescMethod;
  /** The `id:` of a message event. */
  readonly cursor: (message: Message) => string;
  /** The request header the handler reads the cursor from (`Last-Event-ID` is copied into it). */
  readonly resumeHeader: string;
  /**
   * The response header in which the handler says how the resume went
   * (`recovered` or `gap`); the route repeats it as a `resume` event, which is
   * how a browser `EventSource` (blind to headers) learns of a gap.
   */
  readonly resumeStatusHeader: string | undefined;
}

/** Options of {@link sseResume}. */
export interface SseResumeOptions<O extends DescMessage> {
  /**
   * The cursor of a message: it must increase along the stream, and the
   * handler must resume strictly after it. For weather readings: the timestamp.
   */
  readonly cursor: (message: MessageShape<O>) => string;
  /** The request header the handler reads the resume cursor from. */
  readonly resumeHeader: string;
  /** The response header the handler answers a resume with, if any. */
  readonly resumeStatusHeader?: string;
}

/**
 * Declares a resumable method for the SSE route: each of its messages gets
 * `id: cursor(message)`, and a request's `Last-Event-ID` (header or query
 * parameter) reaches the handler as `resumeHeader`, exactly as the other
 * transports send it.
 *
 * @example
 * sseResume(WeatherService.method.subscribeWeather, {
 *   cursor: (r) => r.timestamp.toString(),
 *   resumeHeader: RESUME_AFTER_HEADER,
 *   resumeStatusHeader: RESUME_STATUS_HEADER,
 * })
 */
export function sseResume<I extends DescMessage, O extends DescMessage>(
  method: DescMethodServerStreaming<I, O> | DescMethodUnary<I, O>,
  options: SseResumeOptions<O>,
): SseResume {
  return {
    method,
    // The route only calls it with messages of `method.output`, decoded by that schema.
    cursor: options.cursor as (message: Message) => string,
    resumeHeader: options.resumeHeader,
    resumeStatusHeader: options.resumeStatusHeader,
  };
}
