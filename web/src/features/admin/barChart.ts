/**
 * The usage report's bar chart, drawn by uPlot (small, canvas-drawn). This module and uPlot are
 * a chunk of their own, imported by `UsageChart` only when a report has rows to draw: the app's
 * entry and the rest of the admin page never carry the library.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Bar {
  label: string;
  value: number;
}

const HEIGHT = 260;
const MAX_LABEL = 16;

/** Steps between the value axis' lines: whole cents at least, so no two labels read the same. */
const STEPS = [1, 2, 5].flatMap((step) => [-2, -1, 0, 1, 2, 3, 4, 5, 6].map((power) => step * 10 ** power)).sort((a, b) => a - b);

const shorten = (text: string) => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text);

/** The page's own colours (light or dark), read from its CSS custom properties. */
function palette(element: HTMLElement) {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    bar: read('--accent', '#5b4bdb'),
    text: read('--muted', '#5d5d6c'),
    grid: read('--border', '#dcdce4'),
    font: `12px ${style.fontFamily || 'system-ui, sans-serif'}`,
  };
}

function options(bars: readonly Bar[], width: number, format: (value: number) => string, element: HTMLElement): uPlot.Options {
  const colors = palette(element);
  const labels = bars.map((bar) => shorten(bar.label));
  const indices = bars.map((_, index) => index);
  const highest = Math.max(0, ...bars.map((bar) => bar.value));
  const paths = uPlot.paths.bars?.({ size: [0.7, 64], align: 0 });
  // Labels turn when they would not fit side by side.
  const crowded = bars.length * 90 > width;
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: { time: false, range: [-0.5, bars.length - 0.5] },
      y: { range: [0, highest > 0 ? highest * 1.1 : 1] },
    },
    axes: [
      {
        stroke: colors.text,
        font: colors.font,
        grid: { show: false },
        ticks: { show: false },
        splits: () => indices,
        values: (_u, splits) => splits.map((index) => labels[index] ?? ''),
        rotate: crowded ? -40 : 0,
        size: crowded ? 90 : 40,
      },
      {
        stroke: colors.text,
        font: colors.font,
        grid: { stroke: colors.grid, width: 1 },
        ticks: { stroke: colors.grid, width: 1 },
        incrs: STEPS,
        values: (_u, splits) => splits.map(format),
        size: 70,
      },
    ],
    series: [
      {},
      {
        label: 'Estimated USD',
        fill: colors.bar,
        stroke: colors.bar,
        width: 0,
        points: { show: false },
        ...(paths === undefined ? {} : { paths }),
      },
    ],
  };
}

/**
 * Draws the bars into `element` at its width, redrawing when the width or the colour scheme
 * changes. Returns what removes the chart.
 */
export function drawBarChart(element: HTMLElement, bars: readonly Bar[], format: (value: number) => string): () => void {
  const data: uPlot.AlignedData = [bars.map((_, index) => index), bars.map((bar) => bar.value)];
  let chart: uPlot | null = null;
  let width = -1;
  const draw = (force: boolean) => {
    const next = Math.max(200, element.clientWidth);
    if (!force && next === width) return;
    width = next;
    chart?.destroy();
    chart = new uPlot(options(bars, width, format, element), data, element);
  };
  draw(true);
  const resize = new ResizeObserver(() => draw(false));
  resize.observe(element);
  const scheme = window.matchMedia('(prefers-color-scheme: dark)');
  const redraw = () => draw(true);
  scheme.addEventListener('change', redraw);
  return () => {
    resize.disconnect();
    scheme.removeEventListener('change', redraw);
    chart?.destroy();
  };
}
