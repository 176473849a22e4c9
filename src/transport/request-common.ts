import type { DescMethod } from "@bufbuild/protobuf";
import { type ContextValues, createContextValues } from "@connectrpc/connect";

/**
 * The fields every request handed to connect's `runUnaryCall` /
 * `runStreamingCall` carries, whatever the transport: what interceptors see.
 */
export function requestCommon<M extends DescMethod>(method: M, url: string, header: Headers, contextValues: ContextValues | undefined) {
  return {
    service: method.parent,
    method,
    requestMethod: "POST",
    url,
    header,
    contextValues: contextValues ?? createContextValues(),
  } as const;
}
