import { api, withToken } from './api.js';
import { AlertsSocket, type ConnectionState } from './alerts-socket.js';
import { compareIds, mergeAlert } from './alert-merge.js';
import { formatDuration, formatTime, h, pct } from './dom.js';
import { AlertSound } from './alert-sound.js';
import { swapImage } from './visibility.js';
import type { Alert, Camera } from './types.js';

const MAX_SHOWN = 200;
/** Events read on load: several per alert (open, updates, close), so enough for MAX_SHOWN alerts. */
const HISTORY_EVENTS = 1000;
const NOTIFY_KEY = 'skywatch.notify';

interface Card {
  li: HTMLLIElement;
  img: HTMLImageElement;
  noimg: HTMLDivElement;
  score: HTMLElement;
  label: HTMLElement;
  camera: HTMLElement;
  times: HTMLElement;
  model: HTMLElement;
}

/**
 * Live alerts, newest first, one card per alert. Cards are updated in place (an update changes
 * text, not elements; a new snapshot is swapped in once loaded), so focus, images and screen
 * readers are not disturbed by the feed. New alerts are announced once in a separate live region.
 */
export class AlertsView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'alerts-title' });
  private readonly list = h('ol', { class: 'alerts', 'aria-label': 'Alerts, newest first' });
  private readonly announcer = h('p', { id: 'alert-announcer', class: 'sr-only', 'aria-live': 'polite' });
  private readonly alerts = new Map<string, Alert>();
  private readonly cards = new Map<string, Card>();
  private readonly cameraNames = new Map<string, string>();
  private readonly cameraSelect = h('select', { id: 'f-camera', name: 'camera' }, h('option', { value: '' }, 'All cameras'));
  private readonly labelSelect = h('select', { id: 'f-label', name: 'label' }, h('option', { value: '' }, 'All labels'));
  private readonly minScore = h('input', { id: 'f-score', name: 'minScore', type: 'range', min: 0, max: 1, step: 0.05, value: 0 });
  private readonly minScoreOut = h('output', { for: 'f-score' }, '0%');
  private readonly notify = h('input', { id: 'f-notify', type: 'checkbox' });
  private readonly empty = h('p', { class: 'muted' }, 'No alerts yet. They appear here as they happen.');
  private readonly sound = new AlertSound();
  private socket: AlertsSocket | null = null;
  private namesLoadedAt = 0;

  constructor(private readonly onConnection: (state: ConnectionState, detail?: string) => void) {
    const filters = h('form', { class: 'filters', 'aria-label': 'Filter alerts', onsubmit: (e: Event) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'f-camera' }, 'Camera'), this.cameraSelect),
      h('div', { class: 'field' }, h('label', { for: 'f-label' }, 'Label'), this.labelSelect),
      h('div', { class: 'field' }, h('label', { for: 'f-score' }, 'Minimum score '), this.minScore, this.minScoreOut),
      h('div', { class: 'field check' }, this.notify, h('label', { for: 'f-notify' }, 'Sound and notification for new alerts that match these filters')),
    );
    for (const input of [this.cameraSelect, this.labelSelect, this.minScore]) input.addEventListener('input', () => this.applyFilters());
    this.notify.checked = localStorage.getItem(NOTIFY_KEY) === '1';
    this.notify.addEventListener('change', () => {
      localStorage.setItem(NOTIFY_KEY, this.notify.checked ? '1' : '0');
      // The audio context is made here, in the click, where browsers allow sound to start.
      if (this.notify.checked) this.sound.prepare();
      else void this.sound.close();
      if (this.notify.checked && 'Notification' in window && Notification.permission === 'default') void Notification.requestPermission();
    });
    this.el.append(h('h2', { id: 'alerts-title' }, 'Live alerts'), filters, this.announcer, this.empty, this.list);
  }

  /** Camera names for the cards and the filter; reloaded (at most once a second) when an unknown camera alerts. */
  private async loadCameraNames(): Promise<void> {
    if (Date.now() - this.namesLoadedAt < 1_000) return;
    this.namesLoadedAt = Date.now();
    try {
      const cameras = await api<{ cameras?: Camera[] } | Camera[]>('v1/cameras');
      for (const c of Array.isArray(cameras) ? cameras : cameras.cameras ?? []) this.nameCamera(c.id, c.name);
    } catch {
      // Names are a nicety: alerts still flow without them.
    }
  }

  private nameCamera(id: string, name: string): void {
    if (this.cameraNames.get(id) === name) return;
    this.cameraNames.set(id, name);
    const option = [...this.cameraSelect.options].find((o) => o.value === id);
    if (option) option.textContent = name;
    else this.cameraSelect.append(h('option', { value: id }, name));
    for (const [key, a] of this.alerts) {
      const card = this.cards.get(key);
      if (card && a.cameraId === id) card.camera.textContent = name;
    }
  }

  async start(): Promise<void> {
    await this.loadCameraNames();
    let since: string | null = null;
    try {
      const recent = await api<{ alerts: Alert[] }>(`v1/alerts?limit=${HISTORY_EVENTS}`);
      // Oldest first, as they happened (mergeAlert is order-proof anyway).
      const events = [...recent.alerts].sort((a, b) => compareIds(a.id, b.id));
      for (const a of events) this.upsert(a, false);
      since = events.length ? events[events.length - 1].id : null;
    } catch {
      // The socket replays from the start of the stream instead.
    }
    this.showEmpty();
    this.socket = new AlertsSocket((a) => this.upsert(a, true), this.onConnection);
    this.socket.start(since ?? '0-0');
  }

  stop(): void {
    this.socket?.stop();
    void this.sound.close();
  }

  private upsert(alert: Alert, live: boolean): void {
    const key = alert.alertId ?? alert.id;
    const known = this.alerts.get(key);
    const merged = mergeAlert(known, alert);
    this.alerts.set(key, merged);
    if (alert.cameraName) this.nameCamera(alert.cameraId, alert.cameraName);
    else if (!this.cameraNames.has(alert.cameraId)) {
      this.nameCamera(alert.cameraId, alert.cameraId);
      void this.loadCameraNames();
    }
    if (![...this.labelSelect.options].some((o) => o.value === alert.label)) this.labelSelect.append(h('option', { value: alert.label }, alert.label));
    this.render(key, merged);
    if (this.alerts.size > MAX_SHOWN) this.evictOldest();
    if (live && !known) {
      const matches = this.matches(merged);
      if (matches) this.announcer.textContent = `New ${merged.label} alert on ${this.nameOf(merged)}, ${pct(merged.score)}`;
      if (matches && this.notify.checked) this.announce(merged);
    }
    this.showEmpty();
  }

  private evictOldest(): void {
    let oldest: [string, Alert] | null = null;
    for (const entry of this.alerts) if (!oldest || entry[1].lastAt < oldest[1].lastAt) oldest = entry;
    if (!oldest) return;
    this.alerts.delete(oldest[0]);
    this.cards.get(oldest[0])?.li.remove();
    this.cards.delete(oldest[0]);
  }

  private nameOf(a: Alert): string {
    return this.cameraNames.get(a.cameraId) ?? a.cameraName ?? a.cameraId;
  }

  private matches(a: Alert): boolean {
    const camera = this.cameraSelect.value;
    const label = this.labelSelect.value;
    return (!camera || a.cameraId === camera) && (!label || a.label === label) && a.score >= Number(this.minScore.value);
  }

  private announce(alert: Alert): void {
    this.sound.beep();
    if ('Notification' in window && Notification.permission === 'granted') {
      new Notification(`${alert.label} alert`, { body: `${this.nameOf(alert)}: ${pct(alert.score)}`, tag: alert.alertId ?? alert.id });
    }
  }

  private applyFilters(): void {
    this.minScoreOut.textContent = pct(Number(this.minScore.value));
    for (const [key, a] of this.alerts) {
      const card = this.cards.get(key);
      if (card) card.li.hidden = !this.matches(a);
    }
    this.showEmpty();
  }

  private showEmpty(): void {
    const shown = [...this.cards.values()].some((c) => !c.li.hidden);
    this.empty.hidden = shown;
    this.empty.textContent = this.alerts.size > 0 ? 'No alert matches these filters.' : 'No alerts yet. They appear here as they happen.';
  }

  /** Creates the card of a new alert or updates the one shown, then keeps newest-first order. */
  private render(key: string, a: Alert): void {
    let card = this.cards.get(key);
    if (!card) {
      card = this.createCard(key);
      this.cards.set(key, card);
    }
    const name = this.nameOf(a);
    card.li.className = `alert label-${a.label}${a.status === 'closed' ? ' ended' : ''}`;
    card.li.dataset.label = a.label;
    card.li.dataset.status = a.status === 'closed' ? 'closed' : 'open';
    card.label.textContent = a.label;
    card.score.textContent = pct(a.score);
    card.camera.textContent = name;
    card.times.textContent = `${formatTime(a.firstAt)} · ${formatDuration(a.lastAt - a.firstAt)}${a.frames ? ` · ${a.frames} frames` : ''}`;
    card.model.textContent = `model ${a.modelVersion ?? '–'} · ${a.status === 'closed' ? 'ended' : 'ongoing'}`;
    if (a.snapshotUrl) {
      card.img.alt = `Snapshot of ${a.label} on ${name}`;
      card.img.hidden = false;
      card.noimg.hidden = true;
      swapImage(card.img, withToken(a.snapshotUrl));
    }
    card.li.hidden = !this.matches(a);
    this.place(key, a);
  }

  private createCard(key: string): Card {
    const img = h('img', { alt: '', width: 160, height: 128, hidden: true, loading: 'lazy', decoding: 'async' });
    const noimg = h('div', { class: 'noimg' }, 'no snapshot');
    const label = h('strong', { class: 'label' });
    const score = h('span', { class: 'score' });
    const camera = h('div');
    const times = h('div', { class: 'muted' });
    const model = h('div', { class: 'muted status' });
    const li = h('li', { 'data-alert-id': key }, img, noimg, h('div', { class: 'meta' }, label, ' ', score, camera, times, model));
    return { li, img, noimg, label, score, camera, times, model };
  }

  /** Moves a card only when it is out of place (newest lastAt first); most updates move nothing. */
  private place(key: string, a: Alert): void {
    const li = this.cards.get(key)!.li;
    const newerThan = (other: Element | null) => {
      const id = (other as HTMLElement | null)?.dataset.alertId;
      const o = id ? this.alerts.get(id) : undefined;
      return !o || a.lastAt >= o.lastAt;
    };
    const prev = li.previousElementSibling;
    const next = li.nextElementSibling;
    const inList = li.parentElement === this.list;
    if (inList && (!prev || !newerThan(prev)) && (!next || newerThan(next))) return;
    let before: Element | null = this.list.firstElementChild;
    while (before && (before === li || !newerThan(before))) before = before.nextElementSibling;
    if (before !== li.nextElementSibling || !inList) this.list.insertBefore(li, before);
  }
}
