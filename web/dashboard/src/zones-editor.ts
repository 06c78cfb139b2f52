import { clear, h, svg } from './dom.js';
import type { Polygon } from './types.js';

export type ShapeKind = 'mask' | 'zone';
const MAX_POINTS = 64;
const CLOSE_DISTANCE = 0.025;
const KIND_NAMES: Record<ShapeKind, string> = { mask: 'Motion mask', zone: 'Alert zone' };

/**
 * Draws a camera's motion masks (areas where motion is ignored) and alert zones (the only areas
 * that may alert) on its picture. Click to add a point; click the first point or "Close shape" to
 * finish a polygon (3 to 64 points). Coordinates are 0..1 of the frame, as the server stores them.
 */
export class ZonesEditor {
  readonly el: HTMLElement;
  private readonly img = h('img', { alt: '', class: 'zones-picture' });
  private readonly overlay = svg('svg', { viewBox: '0 0 1 1', preserveAspectRatio: 'none', class: 'zones-overlay', role: 'img', 'aria-label': 'Masks and zones on the camera picture' });
  private readonly stage = h('div', { class: 'zones-stage' }, this.img);
  private readonly kind = h('select', { id: 'zone-kind', 'aria-label': 'Shape to draw' }, h('option', { value: 'mask' }, 'Motion mask (ignore motion here)'), h('option', { value: 'zone' }, 'Alert zone (alert only here)'));
  private readonly closeButton = h('button', { type: 'button', class: 'ghost', id: 'zone-close', disabled: true }, 'Close shape');
  private readonly undoButton = h('button', { type: 'button', class: 'ghost', id: 'zone-undo', disabled: true }, 'Undo point');
  private readonly list = h('ul', { class: 'shapes', 'aria-label': 'Masks and zones' });
  private readonly hint = h('p', { class: 'muted small', id: 'zone-hint' });
  private masks: Polygon[] = [];
  private zones: Polygon[] = [];
  private draft: Polygon = [];

  constructor(private readonly onChange: () => void = () => undefined) {
    this.stage.append(this.overlay);
    this.stage.style.aspectRatio = String(16 / 9);
    this.overlay.addEventListener('click', (e) => this.click(e as MouseEvent));
    this.closeButton.addEventListener('click', () => this.close());
    this.undoButton.addEventListener('click', () => { this.draft.pop(); this.draw(); });
    this.el = h('fieldset', { class: 'zones', 'aria-describedby': 'zone-hint' },
      h('legend', {}, 'Masks and zones'),
      h('div', { class: 'row' }, h('label', { for: 'zone-kind' }, 'Draw'), this.kind, this.closeButton, this.undoButton),
      this.stage,
      h('p', { class: 'legend small' }, h('span', { class: 'swatch mask' }), ' motion mask ', h('span', { class: 'swatch zone' }), ' alert zone'),
      this.hint,
      this.list);
    this.draw();
  }

  /** The camera's picture under the shapes, or none (a grey frame) for a camera not yet seen. */
  setPicture(url: string | null, aspect: number): void {
    this.stage.style.aspectRatio = String(aspect > 0 ? aspect : 16 / 9);
    if (url) this.img.src = url;
    else this.img.removeAttribute('src');
    this.img.hidden = !url;
  }

  set(masks: Polygon[] = [], zones: Polygon[] = []): void {
    this.masks = masks.map((p) => p.map(([x, y]) => [x, y] as [number, number]));
    this.zones = zones.map((p) => p.map(([x, y]) => [x, y] as [number, number]));
    this.draft = [];
    this.draw();
  }

  get value(): { motionMasks: Polygon[]; alertZones: Polygon[] } {
    return { motionMasks: this.masks, alertZones: this.zones };
  }

  get drafting(): boolean {
    return this.draft.length > 0;
  }

  private click(e: MouseEvent): void {
    const r = this.overlay.getBoundingClientRect();
    const x = round((e.clientX - r.left) / r.width);
    const y = round((e.clientY - r.top) / r.height);
    if (this.draft.length >= 3 && Math.hypot(x - this.draft[0][0], y - this.draft[0][1]) < CLOSE_DISTANCE) return this.close();
    if (this.draft.length >= MAX_POINTS) return;
    this.draft.push([clamp(x), clamp(y)]);
    this.draw();
  }

  private close(): void {
    if (this.draft.length < 3) return;
    (this.kind.value === 'zone' ? this.zones : this.masks).push(this.draft);
    this.draft = [];
    this.draw();
    this.onChange();
  }

  private remove(kind: ShapeKind, index: number): void {
    (kind === 'zone' ? this.zones : this.masks).splice(index, 1);
    this.draw();
    this.onChange();
  }

  private draw(): void {
    clear(this.overlay);
    const poly = (p: Polygon, cls: string, closed: boolean) => svg(closed ? 'polygon' : 'polyline', { points: p.map(([x, y]) => `${x},${y}`).join(' '), class: cls, 'vector-effect': 'non-scaling-stroke' });
    this.masks.forEach((p, i) => this.overlay.append(poly(p, 'shape mask', true), label(p, `M${i + 1}`)));
    this.zones.forEach((p, i) => this.overlay.append(poly(p, 'shape zone', true), label(p, `Z${i + 1}`)));
    if (this.draft.length) {
      this.overlay.append(poly(this.draft, `shape draft ${this.kind.value}`, false));
      for (const [i, [x, y]] of this.draft.entries()) this.overlay.append(svg('circle', { cx: x, cy: y, r: i === 0 ? 0.012 : 0.008, class: `vertex${i === 0 ? ' first' : ''}` }));
    }
    this.closeButton.disabled = this.draft.length < 3;
    this.undoButton.disabled = this.draft.length === 0;
    this.hint.textContent = this.draft.length === 0
      ? 'Click on the picture to start a shape.'
      : `${this.draft.length} point${this.draft.length === 1 ? '' : 's'}: click the first point or "Close shape" to finish (at least 3).`;
    clear(this.list);
    const item = (kind: ShapeKind, p: Polygon, i: number) => h('li', { 'data-kind': kind },
      h('span', { class: `swatch ${kind}` }), ` ${KIND_NAMES[kind]} ${i + 1} (${p.length} points) `,
      h('button', { type: 'button', class: 'ghost small', 'aria-label': `Delete ${KIND_NAMES[kind].toLowerCase()} ${i + 1}`, onclick: () => this.remove(kind, i) }, 'Delete'));
    this.masks.forEach((p, i) => this.list.append(item('mask', p, i)));
    this.zones.forEach((p, i) => this.list.append(item('zone', p, i)));
    if (!this.masks.length && !this.zones.length) this.list.append(h('li', { class: 'muted' }, 'None: motion counts everywhere and alerts may come from the whole picture.'));
  }
}

function label(p: Polygon, text: string): SVGElement {
  const cx = p.reduce((s, [x]) => s + x, 0) / p.length;
  const cy = p.reduce((s, [, y]) => s + y, 0) / p.length;
  return svg('text', { x: cx, y: cy, class: 'shape-label', 'text-anchor': 'middle', 'font-size': 0.05 }, text);
}

function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

function clamp(v: number): number {
  return Math.min(1, Math.max(0, v));
}
