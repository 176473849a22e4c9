/**
 * What a subscription needs to know about the page: whether the network is
 * up and whether anyone is looking. Injectable, so tests (and non-browser
 * runtimes) decide.
 */
export interface PageLifecycle {
  online(): boolean;
  visible(): boolean;
  /** Calls `listener` whenever either may have changed; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** Always online and visible: for Node and workers. */
export const alwaysActive: PageLifecycle = {
  online: () => true,
  visible: () => true,
  subscribe: () => () => undefined,
};

interface BrowserGlobals {
  navigator?: { onLine?: boolean };
  document?: {
    visibilityState?: string;
    addEventListener(type: string, fn: () => void): void;
    removeEventListener(type: string, fn: () => void): void;
  };
  addEventListener?(type: string, fn: () => void): void;
  removeEventListener?(type: string, fn: () => void): void;
}

/**
 * The page's own lifecycle from `navigator.onLine`, `online`/`offline` events
 * and `document.visibilityState`; {@link alwaysActive} where those are missing.
 */
export function browserLifecycle(): PageLifecycle {
  const g = globalThis as BrowserGlobals;
  const doc = g.document;
  if (doc === undefined || g.addEventListener === undefined || g.removeEventListener === undefined) return alwaysActive;
  const add = g.addEventListener.bind(g);
  const remove = g.removeEventListener.bind(g);
  return {
    online: () => g.navigator?.onLine !== false,
    visible: () => doc.visibilityState !== "hidden",
    subscribe(listener) {
      add("online", listener);
      add("offline", listener);
      doc.addEventListener("visibilitychange", listener);
      return () => {
        remove("online", listener);
        remove("offline", listener);
        doc.removeEventListener("visibilitychange", listener);
      };
    },
  };
}
