import { Code, ConnectError, createClient, createRouterTransport, type Transport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { WeatherService } from "../../src/gen/weather_pb.js";
import { createLazyTransport } from "../../src/transport/lazy-transport.js";
import { isTransportOpenFailure } from "../../src/transport/open-error.js";

const inMemory = (): Transport =>
  createRouterTransport(({ service }) => {
    service(WeatherService, {
      getWeather: (req) => ({ description: `now in ${req.cityCode}` }),
      async *subscribeWeather(req) {
        await Promise.resolve();
        yield { description: `first in ${req.cityCode}` };
        yield { description: `second in ${req.cityCode}` };
      },
    });
  });

describe("createLazyTransport", () => {
  it("loads once, on the first call, and then serves unary and streaming calls", async () => {
    let loads = 0;
    const transport = createLazyTransport("test", async () => {
      loads++;
      await Promise.resolve();
      return inMemory();
    });
    expect(loads).toBe(0);
    const client = createClient(WeatherService, transport);
    const [a, b] = await Promise.all([client.getWeather({ cityCode: "NYC" }), client.getWeather({ cityCode: "LON" })]);
    expect([a.description, b.description]).toEqual(["now in NYC", "now in LON"]);
    const seen: string[] = [];
    for await (const r of client.subscribeWeather({ cityCode: "TYO" })) seen.push(r.description);
    expect(seen).toEqual(["first in TYO", "second in TYO"]);
    expect(loads).toBe(1);
  });

  it("fails a call whose code cannot load as a transport that never opened, and tries again on the next", async () => {
    let attempt = 0;
    const transport = createLazyTransport("test", () => {
      attempt++;
      return attempt === 1 ? Promise.reject(new TypeError("Failed to fetch dynamically imported module")) : Promise.resolve(inMemory());
    });
    const client = createClient(WeatherService, transport);
    const error = await client.getWeather({ cityCode: "NYC" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect((error as ConnectError).rawMessage).toMatch(
      /could not load the test transport: TypeError: Failed to fetch dynamically imported module/,
    );
    expect(isTransportOpenFailure(error)).toBe(true);
    expect((await client.getWeather({ cityCode: "NYC" })).description).toBe("now in NYC");
    expect(attempt).toBe(2);
  });
});
