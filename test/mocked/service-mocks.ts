// createServiceMocks: the same kit for any protobuf-es service, and
// createWeatherMocks({ impl }) replacing one method of the model.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { createConnectTransport } from "@connectrpc/connect-web";
import { describe, expect, it } from "vitest";
import { WeatherResponseSchema, WeatherService } from "../../src/gen/weather_pb.js";
import { createWeatherClient } from "../../src/index.js";
import { createServiceMocks, createWeatherMocks, type MockHandlers } from "../../src/testing/index.js";
import { createWebSocketTransport } from "../../src/transport/websocket/index.js";

export function serviceMocksTests(runtime: string, use: (handlers: MockHandlers) => void): void {
  describe(`createServiceMocks (${runtime})`, () => {
    it("serves a hand-written implementation over Connect and the tunnel, with faults", async () => {
      const baseUrl = "http://own-service.test";
      const mocks = createServiceMocks(
        WeatherService,
        {
          getWeather: (req) => create(WeatherResponseSchema, { description: `fixed for ${req.cityCode}`, temperature: 21 }),
          async *weatherChat(requests) {
            for await (const r of requests) yield create(WeatherResponseSchema, { description: `answer for ${r.cityCode}` });
          },
        },
        { baseUrl },
      );
      use(mocks.handlers);
      const overConnect = createClient(WeatherService, createConnectTransport({ baseUrl }));
      const overTunnel = createClient(WeatherService, createWebSocketTransport({ url: `${baseUrl}/ws` }));
      expect(await overConnect.getWeather({ cityCode: "NYC" })).toMatchObject({ description: "fixed for NYC", temperature: 21 });
      const answers: string[] = [];
      for await (const r of overTunnel.weatherChat(createAsyncIterable([{ cityCode: "A" }, { cityCode: "B" }])))
        answers.push(r.description);
      expect(answers).toEqual(["answer for A", "answer for B"]);
      // A method the implementation leaves out is Unimplemented, as on a real server.
      await expect(overConnect.reportBatch(createAsyncIterable([]))).rejects.toBeInstanceOf(ConnectError);
      const error = await overTunnel.reportBatch(createAsyncIterable([])).catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.Unimplemented });
      mocks.fail(Code.ResourceExhausted, { transport: "websocket" });
      await expect(overTunnel.getWeather({ cityCode: "NYC" })).rejects.toMatchObject({ code: Code.ResourceExhausted });
      await mocks.close();
    });

    it("createWeatherMocks({ impl }) replaces one method and keeps the model for the rest", async () => {
      const baseUrl = "http://weather-impl.test";
      const mocks = createWeatherMocks({
        baseUrl,
        impl: { getWeather: () => create(WeatherResponseSchema, { description: "always sunny", timestamp: 1n }) },
      });
      use(mocks.handlers);
      const weather = createWeatherClient({ baseUrl, transports: ["sse"] });
      expect(await weather.getWeather({ cityCode: "LON" })).toMatchObject({ description: "always sunny" });
      const sub = weather.subscribeWeather({ cityCode: "LON" });
      for await (const reading of sub) {
        expect(reading.timestamp).toBeGreaterThan(1n);
        break;
      }
      weather.close();
      await mocks.close();
    });
  });
}
