export { encodeFrameBatch, FrameBatchBuilder } from "./frame-encoder.js";
export { decodeFrameBatch, type FrameSink } from "./frame-decoder.js";
export {
  type ControlFrame,
  type DataFrame,
  DEFAULT_INITIAL_WINDOW,
  type ErrorDetailField,
  type Frame,
  type HeaderList,
  TUNNEL_SUBPROTOCOL,
} from "./frames.js";
export {
  type DataEnvelopeFault,
  ENVELOPE_HEADER_BYTES,
  envelope,
  FLAG_END_STREAM,
  forEachEnvelope,
  readEnvelopeLength,
  walkDataEnvelopes,
  writeEnvelopeHeader,
} from "./envelope.js";
export { TunnelProtocolError, type TunnelErrorCode } from "./errors.js";
