import { api, describeError } from './api.js';
import { clear, h, svg } from './dom.js';
import { pageVisible } from './visibility.js';
import type { Camera } from './types.js';

const POLL_MS = 2000;
/** Ten minutes of points at one every 2 s. */
const WINDOW_MS = 10 * 60_000;

/**
 * How a number of the metrics summary is shown: counters (which only grow) become rates per second
 * (or per minute), gauges are drawn as they are. Names are for people, with units.
 */
interface MetricSpec {
  key: string;
  title: string;
  unit: string;
  kind: 'rate' | 'gauge';
  /** Rates: per second (1) or per minute (60). */
  per?: 1 | 60;
  digits?: number;
}

const METRICS: MetricSpec[] = [
  { key: 'pipeline.framesInferred', title: 'Frames analysed', unit: 'frames/s', kind: 'rate', digits: 1 },
  { key: 'pipeline.cropsInferred', title: 'Objects classified', unit: 'crops/s', kind: 'rate', digits: 1 },
  { key: 'pipeline.framesDropped', title: 'Frames dropped', unit: 'frames/s', kind: 'rate', digits: 2 },
  { key: 'pipeline.queueDepth', title: 'Queue depth', unit: 'frames waiting', kind: 'gauge', digits: 0 },
  { key: 'pipeline.alertsOpened', title: 'Alerts raised', unit: 'alerts/min', kind: 'rate', per: 60, digits: 1 },
  { key: 'serving.meanInferenceMs', title: 'Detector time', unit: 'ms per batch', kind: 'gauge', digits: 1 },
  { key: 'serving.predictions', title: 'API predictions', unit: 'images/s', kind: 'rate', digits: 1 },
  { key: 'process.cpuPercent', title: 'CPU (API process)', unit: '% of one core', kind: 'gauge', digits: 0 },
  { key: 'process.rssMb', title: 'Memory (API process)', unit: 'MB resident', kind: 'gauge', digits: 0 },
];

interface Series {
  spec: MetricSpec;
  points: Array<{ at: number; value: number }>;
  /** The previous raw counter reading, for rates. */
  last?: { at: number; raw: number };
  figure?: HTMLElement;
}

/**
 * Live charts of the server: rates of the pipeline's counters, queue depth, detector time, CPU and
 * memory, and the measured fps of each camera, each with its unit and a time axis. Charts are
 * redrawn in place (the figures stay), and polling stops while the page is hidden.
 */
export class SystemView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'system-title' });
  private readonly grid = h('div', { class: 'charts' });
  private readonly error = h('p', { class: 'error', role: 'status' });
  private readonly series = new Map<string, Series>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    this.el.append(h('h2', { id: 'system-title' }, 'System'), h('p', { class: 'muted' }, 'Up to the last 10 minutes, one point every 2 seconds while this page is open.'), this.error, this.grid);
  }

  start(): void {
    void this.poll();
    this.timer ??= setInterval(() => { if (pageVisible()) void this.poll(); }, POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    let summary: unknown;
    let cameras: Camera[] = [];
    try {
      [summary, cameras] = await Promise.all([
        api<unknown>('v1/metrics/summary'),
        api<{ cameras?: Camera[] }>('v1/cameras').then((b) => b.cameras ?? []).catch(() => []),
      ]);
    } catch (err) {
      this.error.textContent = `Metrics unavailable: ${describeError(err)}`;
      return;
    }
    this.error.textContent = '';
    const at = Date.now();
    const specs: Array<[MetricSpec, number]> = [];
    for (const spec of METRICS) {
      const raw = valueAt(summary, spec.key);
      if (raw !== undefined) specs.push([spec, raw]);
    }
    // The API's own memory when the process source is missing (older servers).
    if (valueAt(summary, 'process.rssMb') === undefined) {
      const rss = valueAt(summary, 'serving.rssMb');
      if (rss !== undefined) specs.push([{ key: 'serving.rssMb', title: 'Memory (API process)', unit: 'MB resident', kind: 'gauge', digits: 0 }, rss]);
    }
    for (const c of cameras) {
      if (typeof c.status?.fps !== 'number') continue;
      specs.push([{ key: `camera.${c.id}.fps`, title: `Camera ${c.name}`, unit: 'frames/s decoded', kind: 'gauge', digits: 1 }, c.status.fps]);
    }
    for (const [spec, raw] of specs) this.add(spec, raw, at);
    for (const s of this.series.values()) this.draw(s, at);
  }

  private add(spec: MetricSpec, raw: number, at: number): void {
    let s = this.series.get(spec.key);
    if (!s) {
      s = { spec, points: [] };
      this.series.set(spec.key, s);
    }
    if (spec.kind === 'gauge') s.points.push({ at, value: raw });
    else if (s.last && at > s.last.at) {
      // A counter that went down was reset (server restart): count from zero again.
      const delta = raw >= s.last.raw ? raw - s.last.raw : raw;
      s.points.push({ at, value: (delta / ((at - s.last.at) / 1000)) * (spec.per ?? 1) });
    }
    s.last = { at, raw };
    while (s.points.length && s.points[0].at < at - WINDOW_MS) s.points.shift();
  }

  private draw(s: Series, now: number): void {
    const { spec, points } = s;
    if (!s.figure) {
      s.figure = h('figure', { class: 'chart', 'data-metric': spec.key });
      this.grid.append(s.figure);
    }
    clear(s.figure);
    const last = points[points.length - 1];
    const value = last ? last.value.toFixed(spec.digits ?? 1) : '…';
    s.figure.append(h('figcaption', {}, h('span', { class: 'title' }, spec.title), h('strong', {}, value, ' ', h('span', { class: 'unit' }, spec.unit))),
      chart(points, now, spec));
  }
}

function valueAt(node: unknown, key: string): number | undefined {
  let cur: unknown = node;
  for (const part of key.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'number' && Number.isFinite(cur) && cur >= 0 ? cur : undefined;
}

/** A line over the last 10 minutes: y from 0 to a round maximum (labelled with the unit), x in minutes ago. */
function chart(points: Array<{ at: number; value: number }>, now: number, spec: MetricSpec): SVGElement {
  const w = 260;
  const hgt = 90;
  const left = 34;
  const bottom = 16;
  const plotW = w - left - 4;
  const plotH = hgt - bottom - 6;
  const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
  // The axis covers what has been seen, from one minute up to ten, so a fresh page is not a flat dot.
  const span = Math.min(WINDOW_MS, Math.max(60_000, points.length ? now - points[0].at : 0));
  const x = (at: number) => left + plotW * (1 - (now - at) / span);
  const y = (v: number) => 6 + plotH * (1 - v / max);
  const root = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'plot', role: 'img', 'aria-label': `${spec.title} in ${spec.unit}, last ${ago(span)}: now ${points.length ? points[points.length - 1].value.toFixed(spec.digits ?? 1) : 'no data yet'}` });
  root.append(svg('line', { x1: left, y1: 6, x2: left, y2: 6 + plotH, class: 'axis-line' }), svg('line', { x1: left, y1: 6 + plotH, x2: left + plotW, y2: 6 + plotH, class: 'axis-line' }));
  root.append(svg('text', { x: left - 4, y: 12, 'text-anchor': 'end', class: 'axis' }, fmt(max)), svg('text', { x: left - 4, y: 6 + plotH, 'text-anchor': 'end', class: 'axis' }, '0'));
  for (const [i, back] of [span, span / 2, 0].entries()) {
    root.append(svg('text', { x: x(now - back), y: hgt - 3, 'text-anchor': ['start', 'middle', 'end'][i], class: 'axis' }, back === 0 ? 'now' : `−${ago(back)}`));
  }
  if (points.length > 1) root.append(svg('path', { d: points.map((p, i) => `${i ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join(' '), class: 'line' }));
  else if (points.length === 1) root.append(svg('circle', { cx: x(points[0].at), cy: y(points[0].value), r: 2, class: 'dot' }));
  return root;
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) if (v <= step * mag) return step * mag;
  return 10 * mag;
}

function fmt(v: number): string {
  return v >= 1000 ? `${v / 1000}k` : String(v);
}
