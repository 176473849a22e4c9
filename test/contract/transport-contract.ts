import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createAsyncIterable, createWritableIterable } from "@connectrpc/connect/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESUME_AFTER_HEADER, RESUME_STATUS_HEADER } from "../../src/codec/resume.js";
import { type GetWeatherRequest, GetWeatherRequestSchema, WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { findCity, readingAt } from "../../src/simulation/index.js";
import { expectStrictlyIncreasing, rejection } from "../helpers/assertions.js";

/** What a transport under test can carry. */
export interface TransportCapabilities {
  readonly clientStreaming: boolean;
  readonly bidiStreaming: boolean;
}

/** Readings are this far apart on every target the suite runs against. */
export const TICK_MS = 20;

/** A server the suite runs against: the real one, or the mocks of weather-sdk/testing. */
export interface ContractTarget {
  readonly url: string;
  close(): Promise<void>;
}

function expectedReading(code: string, timestamp: bigint) {
  const city = findCity(code);
  if (city === undefined) throw new Error(`unknown city ${code}`);
  return readingAt(city, Number(timestamp) / TICK_MS, TICK_MS);
}

async function firstN<T>(iterable: AsyncIterable<T>, n: number, abort: AbortController): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const x of iterable) {
      out.push(x);
      if (out.length === n) abort.abort();
    }
  } catch (e) {
    if (ConnectError.from(e).code !== Code.Canceled) throw e;
  }
  return out;
}

/**
 * The behaviour every transport must show against the real server (and
 * against the mocks, which must be indistinguishable from it). A new
 * transport is proven by one more line in transports.test.ts. `start` makes
 * the target with a reading every {@link TICK_MS}.
 */
export function transportContract(
  name: string,
  makeTransport: (baseUrl: string) => Transport,
  can: TransportCapabilities,
  start: () => Promise<ContractTarget>,
): void {
  describe(`transport contract: ${name}`, () => {
    let server: ContractTarget;
    let client: ReturnType<typeof createClient<typeof WeatherService>>;
    beforeAll(async () => {
      server = await start();
      client = createClient(WeatherService, makeTransport(server.url));
    });
    afterAll(() => server.close());

    it("unary: the current reading, as the model predicts", async () => {
      const r = await client.getWeather({ cityCode: "NYC", extended: true });
      const expected = readingAt(findCity("NYC") ?? expect.fail(), Number(r.timestamp) / TICK_MS, TICK_MS, true);
      expect(r).toEqual(expected);
    });

    it("unary: bad input is InvalidArgument with the server's message", async () => {
      const error = await rejection(client.getWeather({ cityCode: "QQQ" }));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toMatch(/unknown city_code "QQQ"/);
    });

    it("server streaming: consecutive ticks, values as predicted", async () => {
      const controller = new AbortController();
      const got = await firstN(client.subscribeWeather({ cityCode: "LON" }, { signal: controller.signal }), 4, controller);
      expect(got).toHaveLength(4);
      for (const r of got) expect(r).toEqual(expectedReading("LON", r.timestamp));
      expect(got.map((r) => r.timestamp - (got[0]?.timestamp ?? 0n))).toEqual([0n, 20n, 40n, 60n]);
    });

    it("server streaming: resumes after a cursor and says it recovered", async () => {
      const now = await client.getWeather({ cityCode: "MAD" });
      const cursor = now.timestamp - 2n * BigInt(TICK_MS);
      let status: string | null = null;
      const controller = new AbortController();
      const got = await firstN(
        client.subscribeWeather(
          { cityCode: "MAD" },
          {
            signal: controller.signal,
            headers: { [RESUME_AFTER_HEADER]: cursor.toString() },
            onHeader: (h) => (status = h.get(RESUME_STATUS_HEADER)),
          },
        ),
        3,
        controller,
      );
      expect(status).toBe("recovered");
      expect(got.map((r) => r.timestamp)).toEqual([cursor + 20n, cursor + 40n, cursor + 60n]);
    });

    it("server streaming: errors before the first message keep their code", async () => {
      const error = await firstN(client.subscribeWeather({ cityCode: "" }), 1, new AbortController()).catch((e: unknown) =>
        ConnectError.from(e),
      );
      expect(error).toMatchObject({ code: Code.InvalidArgument });
    });

    it("cancellation: aborting ends the call with Canceled", async () => {
      const controller = new AbortController();
      const seen: bigint[] = [];
      const error = await (async () => {
        for await (const r of client.subscribeWeather({ cityCode: "ROM" }, { signal: controller.signal })) {
          seen.push(r.timestamp);
          controller.abort();
        }
      })().catch((e: unknown) => ConnectError.from(e));
      expect(seen).toHaveLength(1);
      expect(error).toMatchObject({ code: Code.Canceled });
    });

    it("deadline: timeoutMs ends a stream with DeadlineExceeded", async () => {
      const got: bigint[] = [];
      const error = await (async () => {
        for await (const r of client.subscribeWeather({ cityCode: "IST" }, { timeoutMs: 5 * TICK_MS })) got.push(r.timestamp);
      })().catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.DeadlineExceeded });
      expectStrictlyIncreasing(got);
    });

    if (can.clientStreaming) {
      it("client streaming: ReportBatch summarises every reading", async () => {
        const readings = [4, 6, 8].map((t, i) =>
          create(WeatherResponseSchema, { temperature: t, humidity: 30, timestamp: BigInt(100 + i) }),
        );
        expect(await client.reportBatch(createAsyncIterable(readings))).toMatchObject({
          temperature: 6,
          humidity: 30,
          description: "3 readings",
          timestamp: 102n,
        });
      });
    } else {
      it("client streaming: refused with a ConnectError, not a hang", async () => {
        const error = await rejection(client.reportBatch(createAsyncIterable([create(WeatherResponseSchema, {})])));
        expect(error).toBeInstanceOf(ConnectError);
      });
    }

    if (can.bidiStreaming) {
      it("bidi streaming: WeatherChat answers each request and ends on half-close", async () => {
        const requests = createWritableIterable<GetWeatherRequest>();
        const cities = new Set<string>();
        let answers = 0;
        const chat = (async () => {
          for await (const r of client.weatherChat(requests)) {
            answers++;
            cities.add(r.description);
            if (answers === 1) await requests.write(create(GetWeatherRequestSchema, { cityCode: "CAI" }));
            if (answers === 4) requests.close();
          }
        })();
        await requests.write(create(GetWeatherRequestSchema, { cityCode: "REK" }));
        await chat;
        expect(answers).toBeGreaterThanOrEqual(4);
      });
    }
  });
}
