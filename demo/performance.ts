// What the page measures about its own smoothness, for the Chromium test and
// the curious (window.__demoPerf in the console): long tasks (> 50 ms on the
// main thread), the longest gap between animation frames, chart draw times.

export interface PerformanceFigures {
  longTasks: number[];
  frames: number;
  maxFrameGapMs: number;
  framesOver50Ms: number;
  draws: number;
  maxDrawMs: number;
  maxDrawPoints: number;
}

export interface PerformanceWatch {
  draw(ms: number, points: number): void;
}

declare global {
  interface Window {
    __demoPerf: PerformanceFigures & { reset(): void };
  }
}

export function watchPerformance(): PerformanceWatch {
  const figures: PerformanceFigures & { reset(): void } = {
    longTasks: [],
    frames: 0,
    maxFrameGapMs: 0,
    framesOver50Ms: 0,
    draws: 0,
    maxDrawMs: 0,
    maxDrawPoints: 0,
    reset() {
      Object.assign(figures, { longTasks: [], frames: 0, maxFrameGapMs: 0, framesOver50Ms: 0, draws: 0, maxDrawMs: 0, maxDrawPoints: 0 });
      last = performance.now();
    },
  };
  window.__demoPerf = figures;
  if (PerformanceObserver.supportedEntryTypes.includes("longtask")) {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) figures.longTasks.push(Math.round(entry.duration));
    }).observe({ type: "longtask" });
  }
  let last = performance.now();
  const frame = (now: number) => {
    const gap = now - last;
    last = now;
    figures.frames++;
    if (gap > figures.maxFrameGapMs) figures.maxFrameGapMs = gap;
    if (gap > 50) figures.framesOver50Ms++;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  return {
    draw(ms, points) {
      figures.draws++;
      if (ms > figures.maxDrawMs) figures.maxDrawMs = ms;
      if (points > figures.maxDrawPoints) figures.maxDrawPoints = points;
    },
  };
}
