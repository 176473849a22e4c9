/**
 * Names and result shapes shared by the bench driver (Node), the page
 * (Chromium) and the server children. Types only, plus a few constants.
 */

/** Server-streaming client paths the page can run. */
export type StreamPath =
  "raw-ws" | "tunnel-client" | "sub-onmessage" | "sub-forawait" | "connect-web" | "grpc-web" | "sse-client" | "sse-sub-onmessage";

/** Unary client paths the page can run. */
export type UnaryPath = "raw-ws-echo" | "tunnel-client" | "weather-client-ws" | "connect-web" | "grpc-web" | "sse-client";

export interface StreamRunParams {
  readonly path: StreamPath;
  /** http(s) origin of the server the stream comes from. */
  readonly baseUrl: string;
  readonly count: number;
  /** When set, a resume cursor (Unix ms) so the live server replays its history at once. */
  readonly resumeAfter?: string;
  /** Tunnel paths: the stream's receive window (`receiveWindowBytes`); default the SDK's. */
  readonly windowBytes?: number;
}

export interface StreamRunResult {
  readonly count: number;
  readonly ms: number;
  /** Sum of temperatures: keeps the decode from being optimised away and lets runs be compared. */
  readonly checksum: number;
}

export interface UnaryRunParams {
  readonly path: UnaryPath;
  readonly baseUrl: string;
  /** ws:// URL of the raw echo server (raw-ws-echo only). */
  readonly echoUrl: string;
  readonly warmup: number;
  readonly samples: number;
}

export interface ManySubsParams {
  readonly baseUrl: string;
  readonly count: number;
}

/** What the page exposes as `window.weatherBench`. */
export interface PageApi {
  stream(params: StreamRunParams): Promise<StreamRunResult>;
  /** Round-trip times in milliseconds. */
  unary(params: UnaryRunParams): Promise<number[]>;
  /** Round-trip times of `params` and of `baseline`, call by call in alternation. */
  unaryPaired(params: UnaryRunParams, baseline: UnaryRunParams): Promise<{ path: number[]; raw: number[] }>;
  /** Opens `count` subscriptions on one WebSocket; resolves with ms until every one is open and has a message. */
  subsOpen(params: ManySubsParams): Promise<{ openMs: number }>;
  /** Messages received by the open subscriptions during `windowMs`. */
  subsCount(windowMs: number): Promise<{ messages: number; ms: number }>;
  subsClose(): { closed: number };
}

/** Commands the driver sends to a server child over IPC. */
export type ChildCommand = { readonly id: number; readonly cmd: "usage" | "bytes" | "heap" | "exit" };

/** Heap of a child after full GCs, and its RSS then. */
export interface ChildHeap {
  readonly heapBytes: number;
  readonly rssBytes: number;
}

/** Resource usage of a child process. */
export interface ChildUsage {
  /** process.cpuUsage(): microseconds. */
  readonly userUs: number;
  readonly systemUs: number;
  readonly rssBytes: number;
  /** When the child took the reading (ms since the epoch, sub-ms precision): IPC replies wait for a busy event loop. */
  readonly atMs: number;
  /** A Redis-backed server's commands sent so far, by purpose. */
  readonly redisCommands?: number;
  /** The bare SSE floor server's writes so far. */
  readonly writes?: number;
}

/** Bytes through the sockets a child accounts for (replay server, or its counting proxy). */
export interface ChildBytes {
  /** Server → client. */
  readonly down: number;
  /** Client → server. */
  readonly up: number;
}

/** Messages per WebSocket message / HTTP write in the replay server, as in DESIGN.md's baseline. */
export const BATCH = 32;

/** The city every stream asks for. */
export const CITY = "NYC";

/** Path of the raw WebSocket endpoints. */
export const RAW_WS_PATH = "/raw";
