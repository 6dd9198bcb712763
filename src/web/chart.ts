import type { ImageView } from './api.js';
import { formatDuration, processingMs } from './words.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 120;
const MAX_BARS = 30;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/**
 * A bar per recently finished image: how long it took from upload to its final status (failed ones
 * in red). Built as SVG nodes, so the strict CSP holds.
 */
export function renderActivity(chart: HTMLElement, images: ImageView[]): void {
  const finished = images
    .filter((image) => processingMs(image) !== undefined)
    .sort((a, b) => Date.parse(a.completedAt!) - Date.parse(b.completedAt!))
    .slice(-MAX_BARS);
  if (finished.length === 0) {
    const empty = document.createElement('p');
    empty.className = 'caption';
    empty.textContent = 'No image has finished yet.';
    chart.replaceChildren(empty);
    return;
  }
  const times = finished.map((image) => processingMs(image)!);
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  const max = Math.max(...times, 1);
  const step = WIDTH / MAX_BARS;
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', preserveAspectRatio: 'none' });
  root.setAttribute('aria-label', `Processing times of the last ${finished.length} images, longest ${formatDuration(max)}`);
  root.append(svg('line', { class: 'axis', x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5 }));
  finished.forEach((image, i) => {
    const height = Math.max(2, ((HEIGHT - 16) * times[i]!) / max);
    const bar = svg('rect', { class: `bar ${image.status}`, x: i * step + 2, y: HEIGHT - height, width: step - 4, height });
    const title = svg('title', {});
    title.textContent = `${image.original.filename ?? image.id}: ${image.status} in ${formatDuration(times[i]!)}`;
    bar.append(title);
    root.append(bar);
  });
  const caption = document.createElement('p');
  caption.className = 'caption';
  caption.textContent = `Time from upload to final status, last ${finished.length} images: median ${formatDuration(median)}, longest ${formatDuration(max)}.`;
  chart.replaceChildren(root, caption);
}
