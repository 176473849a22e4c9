import type { WeatherResponse } from "../../gen/weather_pb.js";

/**
 * One reading of a city in both styles a subscriber may ask for (`extended`
 * adds a forecast to the description). A reading delivered live is frozen and
 * shared by every call that sends it, so the tunnel encodes it once; a source
 * may make replayed readings afresh per call.
 */
export interface SourceReading {
  /** The city's code, as clients send it. */
  readonly cityCode: string;
  /** The reading's `timestamp` (Unix epoch ms): the resume cursor, strictly increasing per city. */
  readonly timestamp: bigint;
  readonly plain: WeatherResponse;
  readonly extended: WeatherResponse;
}

/** A follower as an object whose `onReading` is called (as a method) with each reading. */
export interface SourceFollower {
  onReading(reading: SourceReading): void;
}

/** A follower in either form, as the package's sources keep them. */
export type SourceListener = ((reading: SourceReading) => void) | SourceFollower;

/** Hands `reading` to `listener`, whichever form it has. */
export function notify(listener: SourceListener, reading: SourceReading): void {
  if (typeof listener === "function") listener(reading);
  else listener.onReading(reading);
}

/**
 * The sources of this package also follow a city with a follower object
 * (`follow` with an object where the contract has a function), under this
 * key. A fan-out walks every follower of a city each tick, and an object
 * reached directly is one object fewer to load per follower than a closure
 * over it (the closure and its context): push subscriptions follow with
 * themselves where a source has it. The property is not enumerable, so a
 * wrapper made as `{ ...source, follow }` does not carry it over and is
 * followed through its own `follow`.
 */
const FOLLOW_OBJECT = Symbol("weather-sdk.followObject");

type FollowObject = (cityCode: string, follower: SourceFollower) => () => void;

/** Gives `source` the follower-object form of its `follow` (see {@link followWithObject}); returns it. */
export function withFollowObject<S extends WeatherSource>(source: S, follow: FollowObject): S {
  Object.defineProperty(source, FOLLOW_OBJECT, { value: follow, enumerable: false });
  return source;
}

/** Follows `cityCode` with `follower` itself where `source` takes an object, else through its `follow` with a closure. */
export function followWithObject(source: WeatherSource, cityCode: string, follower: SourceFollower): () => void {
  const byObject = (source as { [FOLLOW_OBJECT]?: FollowObject })[FOLLOW_OBJECT];
  if (byObject !== undefined) return byObject(cityCode, follower);
  return source.follow(cityCode, (reading) => follower.onReading(reading));
}

/** What {@link WeatherSource.replay} found after a cursor. */
export interface Replay {
  /** Readings after the cursor, oldest first. */
  readonly readings: readonly SourceReading[];
  /** True when the history window no longer holds every reading after the cursor (the client missed some). */
  readonly gap: boolean;
}

/**
 * Where the weather service reads its readings from: the seam between the
 * protocol handlers and the data. The reference server ships two, the
 * deterministic simulation (default, in process) and Redis Streams (several
 * instances share history and fan-out).
 *
 * Every city is a stream whose `timestamp`s strictly increase. Errors are
 * `ConnectError`s: `InvalidArgument` for an unknown city, `FailedPrecondition`
 * for a reported reading at or before the city's newest one, `Unavailable`
 * while the store cannot be reached.
 */
export interface WeatherSource {
  /**
   * The newest reading of `cityCode`. A source that has it at hand returns it
   * directly (no promise), which keeps unary calls cheap.
   */
  newest(cityCode: string): SourceReading | Promise<SourceReading>;
  /**
   * Readings of `cityCode` after `cursor` (exclusive) up to the newest, or
   * the oldest `limit` of them: a replay shorter than `limit` reached the
   * newest reading, a full one is read on with the next call after its last
   * reading. Default: no limit.
   */
  replay(cityCode: string, cursor: bigint, limit?: number): Promise<Replay>;
  /**
   * Calls `listener` with every reading of `cityCode` that arrives from now on,
   * once each and in order, until the returned function is called. A source
   * reads each city once however many listeners follow it. A reading that
   * arrived while a caller was replaying can reach it twice (once in the
   * replay, once here): callers drop what is not after their cursor.
   */
  follow(cityCode: string, listener: (reading: SourceReading) => void): () => void;
  /**
   * Appends readings reported for `cityCode`, in order; each must be after
   * the city's newest reading (`FailedPrecondition` otherwise) and not in the
   * future (`InvalidArgument`). Followers receive them like any other reading.
   */
  append(cityCode: string, readings: readonly WeatherResponse[]): Promise<void>;
  /** For health checks: whether the source can serve now, and a short reason when not. */
  health(): { readonly ok: boolean; readonly detail: string };
  /** Stops timers and connections. Followers receive nothing more. */
  close(): Promise<void>;
}
