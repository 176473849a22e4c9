// The baseline: the same app on plain connect-web gRPC-Web, no weather-sdk transport.
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { WeatherService } from "../../src/gen/weather_pb.js";

const out = document.createElement("pre");
document.body.append(out);
const client = createClient(WeatherService, createGrpcWebTransport({ baseUrl: location.origin }));
const now = await client.getWeather({ cityCode: "NYC" });
out.textContent = `${now.temperature} °C, ${now.description}\n`;
for await (const reading of client.subscribeWeather({ cityCode: "NYC" })) out.textContent += `${reading.temperature} °C\n`;
