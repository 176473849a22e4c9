import type { TestProject } from "vitest/node";
import { Code, ConnectError } from "@connectrpc/connect";
import { createWeatherServer } from "../../src/server/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of a reference server started for the browser tests (another origin than the page). */
    serverUrl: string;
    /** Base URL of a reference server whose `authenticate` accepts only `Authorization: Bearer browser-token`. */
    authServerUrl: string;
  }
}

/** Starts one real reference server for the browser project and hands its URL to the tests. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = createWeatherServer({ tickMs: 50, onError: () => undefined });
  const { url } = await server.listen(0);
  project.provide("serverUrl", url);
  const authServer = createWeatherServer({
    tickMs: 50,
    onError: () => undefined,
    authenticate: (headers) => {
      if (headers.get("authorization") !== "Bearer browser-token") throw new ConnectError("log in first", Code.Unauthenticated);
      return "browser-user";
    },
  });
  project.provide("authServerUrl", (await authServer.listen(0)).url);
  return async () => {
    await Promise.all([server.close(), authServer.close()]);
  };
}
