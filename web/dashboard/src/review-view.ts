import { api, describeError, withToken } from './api.js';
import { append, clear, formatDuration, h, pct, svg } from './dom.js';
import { notice } from './notices.js';
import { modelLabels } from './model-labels.js';
import { isAdmin } from './session.js';
import type { AlertRecord, Camera, ReviewAction } from './types.js';

const PAGE = 25;
const ACTION_TEXT: Record<ReviewAction, string> = { acknowledge: 'Acknowledged', false_alarm: 'False alarm', relabel: 'Relabelled' };

interface Page {
  items: AlertRecord[];
  nextCursor: string | null;
  total: number;
}

/**
 * Alert history from the server's review database: filters, pages, and a detail view with the full
 * snapshot, the path the object flew, the evidence clip and (admin) the review actions.
 */
export class ReviewView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'review-title' });
  private readonly f = {
    camera: h('select', { id: 'r-camera', name: 'camera' }, h('option', { value: '' }, 'All cameras')),
    label: h('select', { id: 'r-label', name: 'label' }, h('option', { value: '' }, 'All labels')),
    minScore: h('input', { id: 'r-score', name: 'minScore', type: 'number', min: 0, max: 1, step: 0.05, placeholder: '0' }),
    from: h('input', { id: 'r-from', name: 'from', type: 'datetime-local' }),
    to: h('input', { id: 'r-to', name: 'to', type: 'datetime-local' }),
    reviewed: h('select', { id: 'r-reviewed', name: 'reviewed' }, h('option', { value: '' }, 'Any'), h('option', { value: 'false' }, 'Not reviewed'), h('option', { value: 'true' }, 'Reviewed')),
    uncertain: h('select', { id: 'r-uncertain', name: 'uncertain' }, h('option', { value: '' }, 'Any'), h('option', { value: 'true' }, 'Uncertain only'), h('option', { value: 'false' }, 'Certain only')),
  };
  private readonly rows = h('tbody');
  private readonly summary = h('p', { class: 'muted', role: 'status', id: 'review-summary' });
  private readonly prev = h('button', { type: 'button', class: 'ghost', id: 'review-prev', disabled: true }, '← Newer');
  private readonly next = h('button', { type: 'button', class: 'ghost', id: 'review-next', disabled: true }, 'Older →');
  private readonly detail = h('div', { id: 'review-detail', class: 'review-detail', tabindex: -1 });
  private readonly records = new Map<string, AlertRecord>();
  private readonly cameraNames = new Map<string, string>();
  /** Cursors of the pages seen, so "Newer" goes back exactly. */
  private cursors: Array<string | null> = [null];
  private nextCursor: string | null = null;
  private selected: string | null = null;
  private labels: string[] = [];

  constructor() {
    const field = (id: string, label: string, input: HTMLElement) => h('div', { class: 'field' }, h('label', { for: id }, label), input);
    const form = h('form', { class: 'filters', 'aria-label': 'Filter the alert history' },
      field('r-camera', 'Camera', this.f.camera), field('r-label', 'Label', this.f.label), field('r-score', 'Minimum score', this.f.minScore),
      field('r-from', 'From', this.f.from), field('r-to', 'To', this.f.to), field('r-reviewed', 'Reviewed', this.f.reviewed), field('r-uncertain', 'Certainty', this.f.uncertain),
      h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Apply')));
    form.addEventListener('submit', (e) => { e.preventDefault(); this.cursors = [null]; void this.load(); });
    for (const input of Object.values(this.f)) input.addEventListener('change', () => { this.cursors = [null]; void this.load(); });
    this.prev.addEventListener('click', () => { if (this.cursors.length > 1) { this.cursors.pop(); void this.load(); } });
    this.next.addEventListener('click', () => { if (this.nextCursor) { this.cursors.push(this.nextCursor); void this.load(); } });
    const table = h('table', { class: 'review', 'aria-labelledby': 'review-title' },
      h('thead', {}, h('tr', {}, ...['When', 'Camera', 'Label', 'Score', 'Status', 'Review'].map((t) => h('th', { scope: 'col' }, t)))), this.rows);
    this.el.append(h('h2', { id: 'review-title' }, 'Alert history and review'), form, this.summary,
      h('div', { class: 'table-wrap' }, table), h('div', { class: 'row pager' }, this.prev, this.next), this.detail);
  }

  async start(): Promise<void> {
    void this.loadCameras();
    this.labels = await modelLabels();
    for (const l of this.labels) ensureOption(this.f.label, l, l);
    this.fromHash();
    await this.load();
  }

  /** Filters can be given in the address (#/review?camera=...&label=...), so a view can be shared. */
  private fromHash(): void {
    const q = new URLSearchParams(location.hash.split('?')[1] ?? '');
    for (const [key, input] of Object.entries(this.f)) {
      const value = q.get(key);
      if (value === null) continue;
      if (input instanceof HTMLSelectElement) ensureOption(input, value, this.cameraNames.get(value) ?? value);
      input.value = value;
    }
    this.cursors = [null];
  }

  private async loadCameras(): Promise<void> {
    try {
      const body = await api<{ cameras?: Camera[] }>('v1/cameras');
      for (const c of body.cameras ?? []) {
        this.cameraNames.set(c.id, c.name);
        ensureOption(this.f.camera, c.id, c.name);
      }
    } catch {
      // The filter still works with ids.
    }
  }

  private query(): string {
    const q = new URLSearchParams();
    const set = (k: string, v: string) => { if (v.trim() !== '') q.set(k, v.trim()); };
    set('camera', this.f.camera.value);
    set('label', this.f.label.value);
    set('minScore', this.f.minScore.value);
    if (this.f.from.value) q.set('from', String(new Date(this.f.from.value).getTime()));
    if (this.f.to.value) q.set('to', String(new Date(this.f.to.value).getTime()));
    set('reviewed', this.f.reviewed.value);
    set('uncertain', this.f.uncertain.value);
    const cursor = this.cursors[this.cursors.length - 1];
    if (cursor) q.set('cursor', cursor);
    q.set('limit', String(PAGE));
    return q.toString();
  }

  private async load(): Promise<void> {
    this.summary.textContent = 'Loading…';
    let page: Page;
    try {
      page = await api<Page>(`v1/review?${this.query()}`);
    } catch (err) {
      this.summary.textContent = `History unavailable: ${describeError(err)}`;
      return;
    }
    this.nextCursor = page.nextCursor;
    this.prev.disabled = this.cursors.length <= 1;
    this.next.disabled = !page.nextCursor;
    const first = (this.cursors.length - 1) * PAGE;
    this.summary.textContent = page.total === 0
      ? 'No alert matches these filters.'
      : `Alerts ${first + 1}–${first + page.items.length} of ${page.total}, newest first`;
    clear(this.rows);
    for (const r of page.items) ensureOption(this.f.camera, r.cameraId, this.cameraNames.get(r.cameraId) ?? r.cameraId);
    for (const r of page.items) {
      this.records.set(r.alertId, r);
      this.rows.append(this.row(r));
    }
  }

  private row(r: AlertRecord): HTMLTableRowElement {
    return h('tr', { 'data-alert-id': r.alertId, class: r.alertId === this.selected ? 'selected' : '' },
      h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => void this.open(r.alertId) }, formatDate(r.firstAt))),
      h('td', {}, this.cameraNames.get(r.cameraId) ?? r.cameraId),
      h('td', { class: 'label' }, r.label, r.uncertain ? h('span', { class: 'pill warn', title: 'The model was unsure' }, ' uncertain') : null),
      h('td', {}, pct(r.score)),
      h('td', {}, r.status === 'closed' ? `ended after ${formatDuration(r.lastAt - r.firstAt)}` : 'ongoing'),
      h('td', { class: 'review-state' }, reviewText(r)),
    );
  }

  private async open(alertId: string): Promise<void> {
    this.selected = alertId;
    for (const tr of this.rows.querySelectorAll('tr')) tr.classList.toggle('selected', tr.dataset.alertId === alertId);
    let r: AlertRecord;
    try {
      r = await api<AlertRecord>(`v1/review/${encodeURIComponent(alertId)}`);
    } catch (err) {
      clear(this.detail);
      this.detail.append(h('p', { class: 'error' }, describeError(err)));
      return;
    }
    this.records.set(r.alertId, r);
    this.showDetail(r);
    this.detail.focus();
  }

  private showDetail(r: AlertRecord): void {
    clear(this.detail);
    const name = this.cameraNames.get(r.cameraId) ?? r.cameraId;
    const picture = h('div', { class: 'evidence' });
    if (r.snapshotUrl) {
      const img = h('img', { src: withToken(r.snapshotUrl), alt: `Snapshot of the ${r.label} on ${name}`, class: 'snapshot' });
      picture.append(img);
      img.addEventListener('load', () => picture.append(drawPath(r, img.naturalWidth, img.naturalHeight)), { once: true });
    } else picture.append(h('p', { class: 'noimg' }, 'No snapshot kept for this alert.'));
    const clip = r.clipUrl
      ? h('video', { src: withToken(r.clipUrl), controls: true, preload: 'metadata', playsinline: true, class: 'clip', 'aria-label': `Evidence clip of the ${r.label} on ${name}` })
      : h('p', { class: 'muted' }, 'No clip recorded for this alert.');
    const scores = r.scores ? h('dl', { class: 'bars' }, ...Object.entries(r.scores).sort((a, b) => b[1] - a[1]).flatMap(([l, s]) => [h('dt', {}, l), h('dd', {}, h('meter', { min: 0, max: 1, value: s, 'aria-label': `${l} score` }), ' ', pct(s))])) : null;
    append(this.detail, [
      h('h3', {}, `${r.label} on ${name}, ${formatDate(r.firstAt)}`),
      h('p', { class: 'muted' }, `${r.status === 'closed' ? `Ended ${formatDate(r.lastAt)}` : 'Still ongoing'} · ${r.frames} frames · score ${pct(r.score)} · model ${r.modelVersion}${r.uncertain ? ' · the model was unsure' : ''}${r.path?.length ? ` · path of ${r.path.length} points` : ''}`),
      h('div', { class: 'evidence-row' }, picture, clip),
      scores,
      h('p', { class: 'review-state', id: 'review-state' }, reviewText(r)),
      isAdmin() ? this.actions(r) : h('p', { class: 'muted' }, 'Reviewing needs an admin token.'),
    ]);
  }

  private actions(r: AlertRecord): HTMLElement {
    const relabel = h('select', { id: 'relabel-label', 'aria-label': 'What it really was' }, ...[...this.labels, 'other'].filter((l) => l !== r.label).map((l) => h('option', { value: l }, l)));
    const relabelButton = h('button', { type: 'button', class: 'ghost', id: 'relabel' }, `It was a ${relabel.value}`);
    relabel.addEventListener('change', () => (relabelButton.textContent = relabel.value === 'other' ? 'It was something else' : `It was a ${relabel.value}`));
    const note = h('input', { id: 'review-note', type: 'text', maxlength: 500, placeholder: 'Note (optional)', 'aria-label': 'Note' });
    const buttons: HTMLButtonElement[] = [];
    const act = async (action: ReviewAction) => {
      for (const b of buttons) b.disabled = true;
      try {
        const body: Record<string, string> = { action };
        if (action === 'relabel') body.label = relabel.value;
        if (note.value.trim()) body.note = note.value.trim();
        const updated = await api<AlertRecord>(`v1/review/${encodeURIComponent(r.alertId)}`, { method: 'POST', body: JSON.stringify(body) });
        this.records.set(updated.alertId, updated);
        this.rows.querySelector(`tr[data-alert-id="${CSS.escape(updated.alertId)}"]`)?.replaceWith(this.row(updated));
        this.showDetail(updated);
        notice(`${ACTION_TEXT[action]}: ${updated.label} on ${this.cameraNames.get(updated.cameraId) ?? updated.cameraId}.`, 'ok');
      } catch (err) {
        notice(describeError(err));
        for (const b of buttons) b.disabled = false;
      }
    };
    const ack = h('button', { type: 'button', id: 'review-ack', onclick: () => void act('acknowledge') }, 'Acknowledge');
    const fa = h('button', { type: 'button', class: 'danger', id: 'review-false', onclick: () => void act('false_alarm') }, 'False alarm');
    relabelButton.addEventListener('click', () => void act('relabel'));
    buttons.push(ack, fa, relabelButton);
    return h('div', { class: 'row review-actions admin-only' }, ack, fa, relabel, relabelButton, note);
  }
}

function ensureOption(select: HTMLSelectElement, value: string, text: string): void {
  const known = [...select.options].find((o) => o.value === value);
  if (known) known.textContent = text;
  else select.append(h('option', { value }, text));
}

function formatDate(ms: number): string {
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' });
}

function reviewText(r: AlertRecord): string {
  if (!r.review) return 'Not reviewed';
  const what = r.review.action === 'relabel' ? `It was a ${r.review.label}` : ACTION_TEXT[r.review.action];
  return `${what} (${r.review.by}, ${formatDate(r.review.at)})${r.review.note ? `: ${r.review.note}` : ''}`;
}

/** The box and the path of the object over the snapshot, in frame pixels. */
function drawPath(r: AlertRecord, width: number, height: number): SVGElement {
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'path-overlay', role: 'img', 'aria-label': `Flight path, ${r.path?.length ?? 0} points` });
  if (r.box) root.append(svg('rect', { x: r.box.x, y: r.box.y, width: r.box.width, height: r.box.height, class: 'box' }));
  const path = r.path ?? [];
  if (path.length > 1) root.append(svg('polyline', { points: path.map((p) => `${p.x},${p.y}`).join(' '), class: 'track' }));
  if (path.length) {
    const end = path[path.length - 1];
    root.append(svg('circle', { cx: path[0].x, cy: path[0].y, r: Math.max(3, width / 150), class: 'start' }));
    root.append(svg('circle', { cx: end.x, cy: end.y, r: Math.max(4, width / 120), class: 'end' }));
  }
  return root;
}
