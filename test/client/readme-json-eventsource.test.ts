// The README's answers to two sharp edges, run as written: a reading is not JSON.stringify-able
// (its timestamp is a bigint) and toJson is the way; a plain EventSource subscribes with a GET.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, fromJson, toJson } from "@bufbuild/protobuf";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WeatherResponseSchema } from "../../src/index.js";
import { startServer } from "../helpers/server.js";

const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");

/** The first fenced code block of `lang` after the heading `heading`. */
function codeAfter(heading: string, lang: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no heading "${heading}"`);
  const match = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(readme.slice(at));
  if (match?.[1] === undefined) throw new Error(`no ${lang} block after "${heading}"`);
  return match[1];
}

describe("a reading as JSON", () => {
  const reading = create(WeatherResponseSchema, { temperature: 21.5, humidity: 40, description: "Sunny", timestamp: 1_795_000_000_000n });

  it("does not JSON.stringify (the timestamp is a bigint), which the README says", () => {
    expect(() => JSON.stringify(reading)).toThrow(TypeError);
    expect(() => JSON.stringify(reading)).toThrow(/BigInt/);
    expect(readme).toContain("`JSON.stringify(reading)` throws");
  });

  it("round-trips through the README's toJson / fromJson", () => {
    const code = codeAfter("### Readings as JSON", "ts");
    expect(code).toContain("JSON.stringify(toJson(WeatherResponseSchema, reading))");
    expect(code).toContain("fromJson(WeatherResponseSchema, JSON.parse(json))");
    const json = JSON.stringify(toJson(WeatherResponseSchema, reading));
    expect(JSON.parse(json)).toMatchObject({ temperature: 21.5, timestamp: "1795000000000" });
    expect(fromJson(WeatherResponseSchema, JSON.parse(json) as never)).toEqual(reading);
  });
});

describe("the README's plain EventSource example", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer({ tickMs: 20 });
  });
  afterAll(() => server.close());

  it("subscribes with a GET and renders protobuf-JSON readings", async () => {
    const code = codeAfter("### Without the SDK: a plain `EventSource`", "js").replaceAll("https://weather.example.com", server.url);
    const rendered: { temperature?: number; timestamp?: string }[] = [];
    let es: EventSource | undefined;
    await new Promise<void>((resolve) => {
      const render = (reading: { temperature?: number; timestamp?: string }) => {
        rendered.push(reading);
        if (rendered.length === 3) resolve();
      };
      // The example as written, given the eventsource package's EventSource and a render function.
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const example = new Function("EventSource", "render", `${code}\nreturn es;`) as (
        eventSource: typeof EventSource,
        renderReading: typeof render,
      ) => EventSource;
      es = example(EventSource, render);
    });
    es?.close();
    // More may have arrived before close(); the first three are what the promise waited for.
    const first = rendered.slice(0, 3);
    expect(first.map((r) => typeof r.temperature)).toEqual(["number", "number", "number"]);
    const stamps = first.map((r) => BigInt(r.timestamp ?? "0"));
    expect(stamps[1]).toBeGreaterThan(stamps[0] ?? 0n);
    expect(stamps[2]).toBeGreaterThan(stamps[1] ?? 0n);
  });
});
