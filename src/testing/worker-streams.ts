/** The part of msw's `SetupWorker` that {@link forwardStreamCancels} uses. */
export interface WorkerEvents {
  readonly events: {
    on(type: "response:mocked", listener: (args: { readonly response: Response }) => void): void;
    removeListener(type: "response:mocked", listener: (args: { readonly response: Response }) => void): void;
  };
}

/**
 * In the browser, lets a client's cancel of a streamed mocked response (an
 * aborted Connect or gRPC-Web stream) reach the mocks, and keeps long streams
 * from piling up in memory. Call it once per worker, e.g. right after
 * `setupWorker(...)`; returns a function that undoes it. Node's
 * `setupServer` needs nothing of the kind.
 *
 * Why: msw's service worker tees every mocked response (except
 * `text/event-stream`) and hands the copy to the page for its `response:*`
 * events. A teed stream cancels its source only when both copies are
 * cancelled, so while nobody reads the copy, the client's cancel stops at the
 * tee and the copy buffers the whole stream. This cancels the copy.
 */
export function forwardStreamCancels(worker: WorkerEvents): () => void {
  const cancelCopy = ({ response }: { readonly response: Response }) => {
    response.body?.cancel().catch(() => undefined);
  };
  worker.events.on("response:mocked", cancelCopy);
  return () => worker.events.removeListener("response:mocked", cancelCopy);
}
