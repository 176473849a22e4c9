// The same app on the WebSocket transport alone, through connect's createClient.
import { createClient } from "@connectrpc/connect";
import { WeatherService } from "../../src/gen/weather_pb.js";
import { createWebSocketTransport } from "../../src/websocket.js";

const out = document.createElement("pre");
document.body.append(out);
const client = createClient(WeatherService, createWebSocketTransport({ url: "/ws" }));
const now = await client.getWeather({ cityCode: "NYC" });
out.textContent = `${now.temperature} °C, ${now.description}\n`;
for await (const reading of client.subscribeWeather({ cityCode: "NYC" })) out.textContent += `${reading.temperature} °C\n`;
