// A small consumer app on the full SDK: createWeatherClient with every transport (WebSocket, Connect, SSE).
import { createWeatherClient } from "../../src/index.js";

const out = document.createElement("pre");
document.body.append(out);
const weather = createWeatherClient({ baseUrl: location.origin });
const now = await weather.getWeather({ cityCode: "NYC" });
out.textContent = `${now.temperature} °C, ${now.description}\n`;
const sub = weather.subscribeWeather({ cityCode: "NYC" });
sub.onState((s) => (document.title = s.kind));
for await (const reading of sub) out.textContent += `${reading.temperature} °C\n`;
