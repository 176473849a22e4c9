import { type DirectMethod, DirectCall } from "./direct-call.js";
import type { CallInit, UniversalCall, UniversalCallSink } from "./server-call.js";
import { ConnectCall } from "./universal-call.js";

/**
 * Starts a call for a transport that is not HTTP (the tunnel, SSE): the
 * implementation called directly when `direct` describes it, else connect's
 * universal handler. Either way the sink hears the same headers, envelopes
 * and end, and the handler runs with the same interceptors, limits and error
 * codes as over HTTP. The way is chosen here, once per call.
 */
export function startCall(init: CallInit, direct: DirectMethod | undefined, sink: UniversalCallSink): UniversalCall {
  return direct === undefined ? new ConnectCall(init, sink) : new DirectCall(init, direct, sink);
}
