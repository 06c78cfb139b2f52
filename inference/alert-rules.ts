import type { Region } from '../ingest/motion.js';

export interface AlertRuleSettings {
  /** Frames above threshold among the last n that open an alert. */
  k: number;
  n: number;
  threshold: number;
  /** After an alert closes, no new alert for this camera and label for this long. */
  cooldownMs: number;
  /** An open alert closes when no agreeing frame came for this long. */
  endAfterMs: number;
  /** Labels that raise alerts (default: all). */
  labels?: string[];
  /** At most one update event per alert this often (default 1 s); the closing event has the totals. */
  updateEveryMs?: number;
}

export interface Observation {
  cameraId: string;
  label: string;
  score: number;
  box: Region | null;
  at: number;
  /** The camera's own threshold and alerting labels, over the settings'. */
  threshold?: number;
  labels?: string[];
}

export type AlertEventKind = 'open' | 'update' | 'closed';

export interface AlertEvent {
  kind: AlertEventKind;
  cameraId: string;
  label: string;
  /** Highest score while open. */
  score: number;
  lastScore: number;
  firstAt: number;
  lastAt: number;
  frames: number;
  box: Region | null;
  /** Set by the publisher after the open event is written: updates and closing refer to it. */
  alertId?: string;
}

interface Track {
  window: boolean[];
  open: AlertEvent | null;
  lastEmit: number;
  cooldownUntil: number;
}

/**
 * Debounced alerts, as Frigate does: per camera and label, k of the last n frames above the threshold
 * open an alert; agreeing frames while it is open are updates; it closes after `endAfterMs` without
 * one, and then stays quiet for the cooldown. One drone crossing the view is one alert with updates.
 */
export class AlertRules {
  private readonly tracks = new Map<string, Track>();

  constructor(readonly settings: AlertRuleSettings) {}

  private track(cameraId: string, label: string): Track {
    const key = `${cameraId}\u0000${label}`;
    let t = this.tracks.get(key);
    if (!t) {
      t = { window: [], open: null, lastEmit: 0, cooldownUntil: 0 };
      this.tracks.set(key, t);
    }
    return t;
  }

  /** One frame's best score for a label; returns the events it causes (closing first, if any). */
  observe(o: Observation): AlertEvent[] {
    const s = this.settings;
    const labels = o.labels ?? s.labels;
    if (labels && !labels.includes(o.label)) return [];
    const events: AlertEvent[] = this.expire(o.at, o.cameraId, o.label);
    const t = this.track(o.cameraId, o.label);
    const hit = o.score >= (o.threshold ?? s.threshold);
    t.window.push(hit);
    if (t.window.length > s.n) t.window.shift();
    if (t.open) {
      if (hit) {
        const a = t.open;
        a.frames++;
        a.lastAt = o.at;
        a.lastScore = o.score;
        a.score = Math.max(a.score, o.score);
        // The box follows the object: snapshots are of the current frame.
        a.box = o.box;
        if (o.at - t.lastEmit >= (s.updateEveryMs ?? 1_000)) {
          t.lastEmit = o.at;
          events.push({ ...a, kind: 'update' });
        }
      }
      return events;
    }
    if (o.at < t.cooldownUntil) return events;
    if (t.window.filter(Boolean).length >= s.k) {
      t.open = { kind: 'open', cameraId: o.cameraId, label: o.label, score: o.score, lastScore: o.score, firstAt: o.at, lastAt: o.at, frames: t.window.filter(Boolean).length, box: o.box };
      t.lastEmit = o.at;
      events.push({ ...t.open });
    }
    return events;
  }

  /** Closes alerts that saw no agreeing frame for `endAfterMs` (call on a timer too, for quiet cameras). */
  expire(now: number, cameraId?: string, label?: string): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const [key, t] of this.tracks) {
      const [cam, lab] = key.split('\u0000');
      if ((cameraId && cam !== cameraId) || (label && lab !== label)) continue;
      if (t.open && now - t.open.lastAt >= this.settings.endAfterMs) {
        out.push({ ...t.open, kind: 'closed' });
        t.open = null;
        t.window = [];
        t.cooldownUntil = now + this.settings.cooldownMs;
      }
    }
    return out;
  }

  /** Remembers the stream id of an alert's open event, so later events carry it. */
  setAlertId(cameraId: string, label: string, alertId: string): void {
    const t = this.tracks.get(`${cameraId}\u0000${label}`);
    if (t?.open) t.open.alertId = alertId;
  }
}
