import { api, withToken } from './api.js';
import { AlertsSocket, type ConnectionState } from './alerts-socket.js';
import { clear, formatDuration, formatTime, h, pct } from './dom.js';
import type { Alert, Camera } from './types.js';

const MAX_SHOWN = 200;
const NOTIFY_KEY = 'skywatch.notify';

/** Live alerts, newest first, one card per alert (updates replace the card), filtered in place. */
export class AlertsView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'alerts-title' });
  private readonly list = h('ol', { class: 'alerts', 'aria-live': 'polite', 'aria-label': 'Alerts, newest first' });
  private readonly alerts = new Map<string, Alert>();
  private readonly cameraNames = new Map<string, string>();
  private readonly cameraSelect = h('select', { id: 'f-camera', name: 'camera' }, h('option', { value: '' }, 'All cameras'));
  private readonly labelSelect = h('select', { id: 'f-label', name: 'label' }, h('option', { value: '' }, 'All labels'));
  private readonly minScore = h('input', { id: 'f-score', name: 'minScore', type: 'range', min: 0, max: 1, step: 0.05, value: 0 });
  private readonly minScoreOut = h('output', { for: 'f-score' }, '0%');
  private readonly notify = h('input', { id: 'f-notify', type: 'checkbox' });
  private readonly empty = h('p', { class: 'muted' }, 'No alerts yet. They appear here as they happen.');
  private socket: AlertsSocket | null = null;

  constructor(private readonly onConnection: (state: ConnectionState, detail?: string) => void) {
    const filters = h('form', { class: 'filters', 'aria-label': 'Filter alerts', onsubmit: (e: Event) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'f-camera' }, 'Camera'), this.cameraSelect),
      h('div', { class: 'field' }, h('label', { for: 'f-label' }, 'Label'), this.labelSelect),
      h('div', { class: 'field' }, h('label', { for: 'f-score' }, 'Minimum score '), this.minScore, this.minScoreOut),
      h('div', { class: 'field check' }, this.notify, h('label', { for: 'f-notify' }, 'Sound and notification on a new drone alert')),
    );
    for (const input of [this.cameraSelect, this.labelSelect, this.minScore]) input.addEventListener('input', () => this.render());
    this.notify.checked = localStorage.getItem(NOTIFY_KEY) === '1';
    this.notify.addEventListener('change', () => {
      localStorage.setItem(NOTIFY_KEY, this.notify.checked ? '1' : '0');
      if (this.notify.checked && 'Notification' in window && Notification.permission === 'default') void Notification.requestPermission();
    });
    this.el.append(h('h2', { id: 'alerts-title' }, 'Live alerts'), filters, this.empty, this.list);
  }

  private namesLoadedAt = 0;

  /** Camera names for the cards and the filter; reloaded (at most once a second) when an unknown camera alerts. */
  private async loadCameraNames(): Promise<void> {
    if (Date.now() - this.namesLoadedAt < 1_000) return;
    this.namesLoadedAt = Date.now();
    try {
      const cameras = await api<{ cameras?: Camera[] } | Camera[]>('v1/cameras');
      for (const c of Array.isArray(cameras) ? cameras : cameras.cameras ?? []) this.nameCamera(c.id, c.name);
      this.render();
    } catch {
      // Names are a nicety: alerts still flow without them.
    }
  }

  private nameCamera(id: string, name: string): void {
    const known = this.cameraNames.get(id);
    if (known === name) return;
    this.cameraNames.set(id, name);
    const option = [...this.cameraSelect.options].find((o) => o.value === id);
    if (option) option.textContent = name;
    else this.cameraSelect.append(h('option', { value: id }, name));
  }

  async start(): Promise<void> {
    await this.loadCameraNames();
    let since: string | null = null;
    try {
      const recent = await api<{ alerts: Alert[] }>('v1/alerts?limit=50');
      for (const a of recent.alerts) this.upsert(a, false);
      since = recent.alerts.reduce<string | null>((max, a) => (max === null || compareIds(a.id, max) > 0 ? a.id : max), null);
    } catch {
      // The socket replays from the start of the stream instead.
    }
    this.render();
    this.socket = new AlertsSocket((a) => { this.upsert(a, true); this.render(); }, this.onConnection);
    this.socket.start(since ?? '0-0');
  }

  private addCamera(id: string, name?: string): void {
    if (name) return this.nameCamera(id, name);
    if (this.cameraNames.has(id)) return;
    this.nameCamera(id, id);
    void this.loadCameraNames();
  }

  private upsert(alert: Alert, live: boolean): void {
    const key = alert.alertId ?? alert.id;
    const isNew = !this.alerts.has(key);
    this.alerts.set(key, { ...this.alerts.get(key), ...alert });
    this.addCamera(alert.cameraId, alert.cameraName);
    if (![...this.labelSelect.options].some((o) => o.value === alert.label)) this.labelSelect.append(h('option', { value: alert.label }, alert.label));
    if (this.alerts.size > MAX_SHOWN) {
      const oldest = [...this.alerts.entries()].sort((a, b) => a[1].lastAt - b[1].lastAt)[0];
      this.alerts.delete(oldest[0]);
    }
    if (live && isNew && alert.label === 'drone' && this.notify.checked) this.announce(alert);
  }

  private announce(alert: Alert): void {
    try {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.2);
    } catch {}
    if ('Notification' in window && Notification.permission === 'granted') {
      new Notification('Drone alert', { body: `${this.cameraNames.get(alert.cameraId) ?? alert.cameraId}: ${pct(alert.score)}` });
    }
  }

  private render(): void {
    const camera = this.cameraSelect.value;
    const label = this.labelSelect.value;
    const min = Number(this.minScore.value);
    this.minScoreOut.textContent = pct(min);
    const shown = [...this.alerts.values()]
      .filter((a) => (!camera || a.cameraId === camera) && (!label || a.label === label) && a.score >= min)
      .sort((a, b) => b.lastAt - a.lastAt);
    clear(this.list);
    for (const a of shown) this.list.append(this.card(a));
    this.empty.hidden = shown.length > 0;
    this.empty.textContent = this.alerts.size > 0 ? 'No alert matches these filters.' : 'No alerts yet. They appear here as they happen.';
  }

  private card(a: Alert): HTMLLIElement {
    const name = this.cameraNames.get(a.cameraId) ?? a.cameraName ?? a.cameraId;
    return h('li', { class: `alert label-${a.label}`, 'data-alert-id': a.alertId ?? a.id, 'data-label': a.label },
      a.snapshotUrl ? h('img', { src: withToken(a.snapshotUrl), alt: `Snapshot of ${a.label} on ${name}`, loading: 'lazy', width: 160, height: 128 }) : h('div', { class: 'noimg' }, 'no snapshot'),
      h('div', { class: 'meta' },
        h('strong', { class: 'label' }, a.label), ' ', h('span', { class: 'score' }, pct(a.score)),
        h('div', {}, name),
        h('div', { class: 'muted' }, `${formatTime(a.firstAt)} · ${formatDuration(a.lastAt - a.firstAt)}${a.frames ? ` · ${a.frames} frames` : ''}`),
        h('div', { class: 'muted' }, `model ${a.modelVersion ?? '–'}${a.status === 'closed' ? ' · ended' : ''}`),
      ),
    );
  }
}

/** Redis stream ids are `ms-seq`; compare numerically, not as strings. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : (as ?? 0) - (bs ?? 0);
}
