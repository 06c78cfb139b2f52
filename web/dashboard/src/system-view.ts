import { api } from './api.js';
import { clear, h, svg } from './dom.js';

const POLL_MS = 2000;
const HISTORY = 60;

/**
 * Live charts of the server's metrics summary. The summary is a tree of numbers contributed by each
 * part (serving, queue, ingest); every numeric leaf becomes a small chart, so a new metric shows up
 * without a dashboard change.
 */
export class SystemView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'system-title' });
  private readonly grid = h('div', { class: 'charts' });
  private readonly series = new Map<string, number[]>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    this.el.append(h('h2', { id: 'system-title' }, 'System'), this.grid);
  }

  start(): void {
    void this.poll();
    this.timer ??= setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    let summary: unknown;
    try {
      summary = await api<unknown>('v1/metrics/summary');
    } catch (err) {
      clear(this.grid);
      this.grid.append(h('p', { class: 'error' }, `Metrics unavailable: ${(err as Error).message}`));
      return;
    }
    for (const [key, value] of flatten(summary, '')) {
      const points = this.series.get(key) ?? [];
      points.push(value);
      if (points.length > HISTORY) points.shift();
      this.series.set(key, points);
    }
    clear(this.grid);
    for (const [key, points] of this.series) this.grid.append(chart(key, points));
  }
}

function flatten(node: unknown, prefix: string): Array<[string, number]> {
  if (typeof node === 'number' && Number.isFinite(node)) return [[prefix, node]];
  if (!node || typeof node !== 'object' || Array.isArray(node)) return [];
  return Object.entries(node).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

function chart(name: string, points: number[]): HTMLElement {
  const w = 200;
  const hgt = 48;
  const max = Math.max(...points, 1e-9);
  const min = Math.min(...points, 0);
  const span = max - min || 1;
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${((i / Math.max(points.length - 1, 1)) * w).toFixed(1)},${(hgt - ((p - min) / span) * (hgt - 4) - 2).toFixed(1)}`).join(' ');
  const last = points[points.length - 1];
  return h('figure', { class: 'chart', 'data-metric': name },
    h('figcaption', {}, h('span', {}, name.replace(/\./g, ' › ')), h('strong', {}, Number.isInteger(last) ? String(last) : last.toFixed(2))),
    svg('svg', { viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: 'img', 'aria-label': `${name}: ${last}` }, svg('path', { d, class: 'line' })),
  );
}
