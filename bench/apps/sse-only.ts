// The same app on the SSE transport alone, through connect's createClient.
import { createClient } from "@connectrpc/connect";
import { WeatherService } from "../../src/gen/weather_pb.js";
import { createSseTransport } from "../../src/sse.js";

const out = document.createElement("pre");
document.body.append(out);
const client = createClient(WeatherService, createSseTransport({ baseUrl: location.origin }));
const now = await client.getWeather({ cityCode: "NYC" });
out.textContent = `${now.temperature} °C, ${now.description}\n`;
for await (const reading of client.subscribeWeather({ cityCode: "NYC" })) out.textContent += `${reading.temperature} °C\n`;
