/** A `fetch` whose response bodies a test can cut, as a dropped connection would. */
export interface CuttableFetch {
  readonly fetch: (input: string | URL, init?: RequestInit) => Promise<Response>;
  /** Every request made so far: URL and headers. */
  readonly requests: { url: string; headers: Headers }[];
  /**
   * Breaks every open response body: its reader fails with a network
   * `TypeError` (what a dropped connection gives), and the real connection is
   * closed so the server sees the client go away. Bytes the client had not
   * read yet are lost, as on a real cut.
   */
  cut(): void;
}

/** Wraps the global `fetch`. */
export function createCuttableFetch(): CuttableFetch {
  const open = new Set<() => void>();
  const requests: { url: string; headers: Headers }[] = [];
  return {
    requests,
    async fetch(input, init) {
      requests.push({ url: String(input), headers: new Headers(init?.headers) });
      const response = await fetch(input, init);
      if (response.body === null) return response;
      const reader = response.body.getReader();
      let cutNow: () => void = () => undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          cutNow = () => {
            open.delete(cutNow);
            controller.error(new TypeError("terminated: the test cut the connection"));
            reader.cancel().catch(() => undefined);
          };
          open.add(cutNow);
        },
        async pull(controller) {
          const chunk = await reader.read();
          if (chunk.done) {
            open.delete(cutNow);
            controller.close();
          } else {
            controller.enqueue(chunk.value);
          }
        },
        cancel(reason) {
          open.delete(cutNow);
          return reader.cancel(reason);
        },
      });
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
    cut() {
      for (const cutNow of [...open]) cutNow();
    },
  };
}
