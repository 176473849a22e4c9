// Bad input reaches connect-node clients as the right Code on every protocol.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WeatherResponse, WeatherResponseSchema } from "../../src/gen/weather_pb.js";
import { readingAt } from "../../src/simulation/index.js";
import {
  city,
  Code,
  codeOf,
  expectReadingOf,
  HTTP1_PROTOCOL_NAMES,
  type HttpVersion,
  openChat,
  PROTOCOL_NAMES,
  type ProtocolName,
  streamCodeOf,
  type WeatherClient,
  weatherClient,
} from "../helpers/connect-node.js";
import { startServer } from "../helpers/server.js";

const MAX_REPORT_BATCH = 5;

let server: Awaited<ReturnType<typeof startServer>>;
const closers: (() => void)[] = [];

beforeAll(async () => {
  server = await startServer({ tickMs: 20, maxReportBatch: MAX_REPORT_BATCH });
});

afterAll(async () => {
  for (const close of closers) close();
  await server.close();
});

async function* readings(n: number, last?: MessageInitShape<typeof WeatherResponseSchema>): AsyncIterable<WeatherResponse> {
  for (let i = 0; i < n; i++) {
    await Promise.resolve();
    yield readingAt(city("SYD"), 1000 + i, 1000);
  }
  if (last !== undefined) yield create(WeatherResponseSchema, last);
}

async function errorOf(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
}

const cases: [ProtocolName, HttpVersion][] = [
  ...PROTOCOL_NAMES.map((p): [ProtocolName, HttpVersion] => [p, "2"]),
  ...HTTP1_PROTOCOL_NAMES.map((p): [ProtocolName, HttpVersion] => [p, "1.1"]),
];

describe.each(cases)("errors over connect-node %s, HTTP/%s", (protocol, httpVersion) => {
  let client: WeatherClient;
  beforeAll(() => {
    const c = weatherClient(protocol, server.url, httpVersion);
    closers.push(c.close);
    client = c.client;
  });

  it("GetWeather: an unknown city is InvalidArgument naming the code and the known ones", async () => {
    const error = await errorOf(client.getWeather({ cityCode: "XYZ" }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain('"XYZ"');
    expect(error.rawMessage).toContain("NYC");
  });

  it("GetWeather: an empty or lower-case city is InvalidArgument", async () => {
    expect(await codeOf(client.getWeather({ cityCode: "" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.getWeather({}))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.getWeather({ cityCode: "nyc" }))).toBe(Code.InvalidArgument);
  });

  it("SubscribeWeather: unknown and empty cities are InvalidArgument", async () => {
    expect(await streamCodeOf(client.subscribeWeather({ cityCode: "XYZ" }))).toBe(Code.InvalidArgument);
    expect(await streamCodeOf(client.subscribeWeather({ cityCode: "" }))).toBe(Code.InvalidArgument);
  });

  it("ReportBatch: no readings is InvalidArgument", async () => {
    expect(await codeOf(client.reportBatch(readings(0)))).toBe(Code.InvalidArgument);
  });

  it("ReportBatch: more than maxReportBatch readings is ResourceExhausted", async () => {
    expect(await client.reportBatch(readings(MAX_REPORT_BATCH))).toMatchObject({ description: "5 readings" });
    const error = await errorOf(client.reportBatch(readings(MAX_REPORT_BATCH + 1)));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toContain(String(MAX_REPORT_BATCH));
  });

  it("ReportBatch: a non-finite value is InvalidArgument", async () => {
    expect(await codeOf(client.reportBatch(readings(2, { temperature: Number.NaN, humidity: 50 })))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.reportBatch(readings(1, { temperature: 10, humidity: Number.POSITIVE_INFINITY })))).toBe(
      Code.InvalidArgument,
    );
  });
});

describe.each(PROTOCOL_NAMES)("WeatherChat errors over connect-node %s, HTTP/2", (protocol) => {
  let client: WeatherClient;
  beforeAll(() => {
    const c = weatherClient(protocol, server.url, "2");
    closers.push(c.close);
    client = c.client;
  });

  it("an unknown city ends the chat with InvalidArgument, after the answers before it", async () => {
    const chat = openChat(client);
    chat.send({ cityCode: "BER" });
    expectReadingOf(await chat.next(), city("BER"), 20);
    chat.send({ cityCode: "ATLANTIS" });
    // Ticks for BER may still arrive before the error.
    const error = await errorOf(
      (async () => {
        for (;;) await chat.next();
      })(),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("ATLANTIS");
  });

  it("an empty city ends the chat with InvalidArgument", async () => {
    const chat = openChat(client);
    chat.send({ cityCode: "" });
    expect(await codeOf(chat.next())).toBe(Code.InvalidArgument);
  });
});
