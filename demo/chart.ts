// The live chart: temperature (solid, °C, left axis) and humidity (dashed, %,
// right axis) of every subscribed city, drawn by uPlot. Readings are appended
// in O(1) from onMessage; the chart is redrawn at most once per animation
// frame, so a replay burst of thousands of readings costs one draw per frame.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** The most recent span of readings the chart keeps, per city. */
const WINDOW_MS = 10 * 60_000;

interface Line {
  readonly code: string;
  readonly color: string;
  readonly times: number[];
  readonly temperatures: number[];
  readonly humidities: number[];
}

export interface LiveChart {
  /** Adds a city's lines (in `color`); readings go to `add`. */
  addCity(code: string, color: string): void;
  removeCity(code: string): void;
  /** Appends one reading (timestamps of a city only grow, as the subscription guarantees). */
  add(code: string, timestampMs: number, temperature: number, humidity: number): void;
  /** Draws once per frame after changes; `onDrawn` reports how long each draw took (ms). */
  onDrawn: ((drawMs: number, points: number) => void) | undefined;
}

export function createLiveChart(host: HTMLElement): LiveChart {
  const lines: Line[] = [];
  let plot: uPlot | undefined;
  let frame = 0;

  const style = () => getComputedStyle(document.documentElement);
  const ink = () => style().getPropertyValue("--muted").trim() || "#5a6577";
  const grid = () => style().getPropertyValue("--rule").trim() || "#d5dbe5";
  const size = () => ({ width: Math.max(200, host.clientWidth), height: host.clientWidth < 500 ? 220 : 300 });

  function build(): void {
    plot?.destroy();
    host.replaceChildren();
    const axis = { stroke: ink(), grid: { stroke: grid(), width: 1 }, ticks: { stroke: grid(), width: 1 } };
    const series: uPlot.Series[] = [{ label: "time" }];
    for (const line of lines) {
      series.push({ label: `${line.code} °C`, stroke: line.color, width: 2, scale: "°C", spanGaps: true, points: { show: false } });
      series.push({
        label: `${line.code} %`,
        stroke: line.color,
        width: 1,
        dash: [4, 4],
        scale: "%",
        spanGaps: true,
        points: { show: false },
      });
    }
    plot = new uPlot(
      {
        ...size(),
        series,
        scales: { x: { time: true }, "%": { range: [0, 100] } },
        axes: [
          // The time of day alone (as the timeline shows it), each tick the same width: uPlot's default puts the date or hour under a
          // tick where they change, and two such labels close together ran into each other.
          { ...axis, space: 90, values: (_u, values) => values.map((v) => new Date(v * 1000).toLocaleTimeString()) },
          { ...axis, scale: "°C", label: "°C", values: (_u, values) => values.map((v) => `${v}`) },
          // 1 is uPlot.Axis.Side.Right, an ambient const enum that isolatedModules cannot read.
          // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
          { ...axis, scale: "%", side: 1, label: "humidity %", grid: { show: false } },
        ],
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
      },
      columns(),
      host,
    );
    plot.root.setAttribute("aria-hidden", "true");
  }

  /** One x column over every city's timestamps (merged, they share the tick grid) and a column per line. */
  function columns(): uPlot.AlignedData {
    const newest = Math.max(0, ...lines.map((l) => l.times.at(-1) ?? 0));
    for (const line of lines) trim(line, newest - WINDOW_MS);
    const cursor = lines.map(() => 0);
    const xs: number[] = [];
    const ys: Array<Array<number | null>> = lines.flatMap(() => [[], []]);
    for (;;) {
      let t = Number.POSITIVE_INFINITY;
      lines.forEach((line, i) => (t = Math.min(t, line.times[cursor[i] ?? 0] ?? Number.POSITIVE_INFINITY)));
      if (t === Number.POSITIVE_INFINITY) break;
      xs.push(t / 1000);
      lines.forEach((line, i) => {
        const at = cursor[i] ?? 0;
        const hit = line.times[at] === t;
        ys[2 * i]?.push(hit ? (line.temperatures[at] ?? null) : null);
        ys[2 * i + 1]?.push(hit ? (line.humidities[at] ?? null) : null);
        if (hit) cursor[i] = at + 1;
      });
    }
    return [xs, ...ys];
  }

  function trim(line: Line, oldestMs: number): void {
    let drop = 0;
    while (drop < line.times.length && (line.times[drop] ?? 0) < oldestMs) drop++;
    if (drop === 0) return;
    line.times.splice(0, drop);
    line.temperatures.splice(0, drop);
    line.humidities.splice(0, drop);
  }

  function draw(): void {
    frame = 0;
    const started = performance.now();
    const data = columns();
    if (plot === undefined) build();
    else plot.setData(data);
    chart.onDrawn?.(performance.now() - started, data[0].length * lines.length);
  }

  const chart: LiveChart = {
    onDrawn: undefined,
    addCity(code, color) {
      lines.push({ code, color, times: [], temperatures: [], humidities: [] });
      build();
    },
    removeCity(code) {
      const i = lines.findIndex((l) => l.code === code);
      if (i >= 0) lines.splice(i, 1);
      build();
    },
    add(code, timestampMs, temperature, humidity) {
      const line = lines.find((l) => l.code === code);
      if (line === undefined) return;
      line.times.push(timestampMs);
      line.temperatures.push(temperature);
      line.humidities.push(humidity);
      if (frame === 0) frame = requestAnimationFrame(draw);
    },
  };

  new ResizeObserver(() => plot?.setSize(size())).observe(host);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", build);
  return chart;
}
