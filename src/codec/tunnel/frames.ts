/**
 * The frames of the WebSocket tunnel (see PROTOCOL.md and
 * proto/weather/tunnel/v1/tunnel.proto) as plain values.
 */

import type { Uint64 } from "./varint.js";

/** Header or trailer fields in wire order; names are lower case. */
export type HeaderList = readonly (readonly [name: string, value: string])[];

/** One error detail of an `end` frame: a serialized protobuf message and its type. */
export interface ErrorDetailField {
  /** Fully qualified message type name, e.g. "google.rpc.RetryInfo". */
  readonly type: string;
  readonly value: Uint8Array;
}

/** Everything but `data`, which the decoder hands over as a view instead. */
export type ControlFrame =
  | { readonly kind: "hello"; readonly streamId: 0; readonly headers: HeaderList }
  | {
      readonly kind: "open";
      readonly streamId: number;
      readonly path: string;
      readonly headers: HeaderList;
      readonly initialWindow: number;
    }
  | { readonly kind: "headers"; readonly streamId: number; readonly headers: HeaderList }
  | { readonly kind: "halfClose"; readonly streamId: number }
  | {
      readonly kind: "end";
      readonly streamId: number;
      readonly code: number;
      readonly message: string;
      readonly details: readonly ErrorDetailField[];
      readonly trailers: HeaderList;
    }
  | { readonly kind: "cancel"; readonly streamId: number }
  | { readonly kind: "windowUpdate"; readonly streamId: number; readonly bytes: number }
  | { readonly kind: "ping"; readonly streamId: 0; readonly payload: Uint64 }
  | { readonly kind: "pong"; readonly streamId: 0; readonly payload: Uint64 }
  | { readonly kind: "goAway"; readonly streamId: 0; readonly lastStreamId: number; readonly message: string };

/**
 * A data frame to send. `chunks` are written back to back; together they
 * must be whole Connect envelopes.
 */
export interface DataFrame {
  readonly kind: "data";
  readonly streamId: number;
  readonly chunks: readonly Uint8Array[];
}

/** Any frame, as a sender hands it to the encoder. */
export type Frame = ControlFrame | DataFrame;

/** Credit each direction of a stream starts with, in data bytes, unless `open.initial_window` says otherwise. */
export const DEFAULT_INITIAL_WINDOW = 262_144;

/** The WebSocket subprotocol of this version of the tunnel. */
export const TUNNEL_SUBPROTOCOL = "weather-tunnel.v1";

/** Field numbers of `Frame.kind`, also the protobuf tags' field part. */
export const FRAME_FIELD = {
  streamId: 1,
  hello: 2,
  open: 3,
  headers: 4,
  data: 5,
  halfClose: 6,
  end: 7,
  cancel: 8,
  windowUpdate: 9,
  ping: 10,
  pong: 11,
  goAway: 12,
} as const;
