import type { TestProject } from "vitest/node";
import { createWeatherServer } from "../../src/server/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of a reference server started for the browser tests (another origin than the page). */
    serverUrl: string;
  }
}

/** Starts one real reference server for the browser project and hands its URL to the tests. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = createWeatherServer({ tickMs: 50, onError: () => undefined });
  const { url } = await server.listen(0);
  project.provide("serverUrl", url);
  return () => server.close();
}
