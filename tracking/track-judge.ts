import type { Box } from '../core/image/crop-pixels.js';
import { onAlertGrid } from './crop-schedule.js';
import { centre, type Track, type TrackPoint } from './track.js';
import type { Verdict, VerdictModel } from './verdict-model.js';

export interface TrackJudgeOptions {
  /** The verdict model, or a getter for the one loaded now (hot reload swaps it). */
  verdict: VerdictModel | (() => VerdictModel);
  /** An alert label's verdict score at or above this opens an alert for the track. */
  threshold: number;
  /** Labels that open alerts (default: drone only). */
  alertLabels: readonly string[];
  /** Crops judged before any verdict may open an alert. */
  minCrops: number;
  /** At most one update event per alert this often, in capture time. */
  updateEveryMs: number;
  frameWidth: number;
  frameHeight: number;
  /** Where a track may open an alert (a camera's alert zones): its latest box must be admitted. Absent: anywhere. */
  admits?: (box: Box) => boolean;
  /**
   * Once a track's alert is open, only the crops of one point in this many after the opening point
   * count (default 1: all). Decided here, in point order, so the verdicts stay the same whichever
   * crops a camera happened to send before it learnt the alert was open.
   */
  alertEvery?: number;
  /**
   * Re-identification: how long (capture time) the alert of an ended track waits for its object to come
   * back as a new track (a hovering drone the motion stage lost, a second track on the same object).
   * A new track that starts within this long after a member's point, inside the rejoin gate, and would
   * open an alert of the same label, continues that alert instead. 0 or absent: an alert closes as its
   * track ends (DEFAULT_REJOIN is what the cameras and the benchmark use).
   */
  rejoinMs?: number;
  /** Rejoin gate: centre to centre, in object sizes (the larger side of either box) ... */
  rejoinSizes?: number;
  /** ... plus this many sizes per second between the two points (a lost object drifts). */
  rejoinSizesPerSecond?: number;
}

/** The rejoin rule the cameras and the benchmark run (docs/DETECTION.md: how these were chosen). */
export const DEFAULT_REJOIN = { rejoinMs: 4_000, rejoinSizes: 4, rejoinSizesPerSecond: 2 } as const;

export interface TrackAlertEvent {
  kind: 'open' | 'update' | 'closed';
  /** The alert's id: the track that opened it (a track that rejoined it reports under this id too). */
  trackId: number;
  label: string;
  /** The verdict's score for the alert's label (highest while open, for `closed`). */
  score: number;
  scores: Record<string, number>;
  firstAt: number;
  lastAt: number;
  /** Crops judged so far, over every track of the alert. */
  frames: number;
  box: Box;
  path: Array<{ x: number; y: number; at: number }>;
  /** Every track of the alert (the one that opened it first, then those that rejoined it). */
  tracks: number[];
}

interface Book {
  track: Track;
  /** Points of the track whose crop result has been applied, in order. */
  applied: number;
  pending: Map<number, Float32Array | null>;
  probabilities: Float32Array[];
  verdict: Verdict | null;
  alert: Alert | null;
  /** Index of the point whose crop opened (or joined) the track's alert. */
  alertAtPoint: number;
  ending: boolean;
}

/** One alert: opened by one track, continued by the tracks that rejoined it. */
interface Alert {
  id: number;
  label: string;
  best: number;
  lastEmit: number;
  /** Every track that fed it, in the order they joined, and how many of their points were applied. */
  members: Array<{ track: Track; book: Book | null }>;
  /** Members whose results are still coming. */
  live: number;
  frames: number;
  scores: Record<string, number>;
}

/**
 * Per camera: keeps each track's crop results, applies them in capture-time order over all the camera's
 * tracks (they may come back from several workers in any order, so every verdict and every alert
 * decision is the same whichever worker scored what), asks the verdict model, and turns verdicts into
 * alerts: opened when an alert label's score reaches the threshold, updated while the track lives, closed
 * when it ends. With `rejoinMs`, an ended track's alert is held that long for its object to come back:
 * a new track that starts near it in time and place and reaches the same label continues the alert
 * (updates under the first track's id) instead of opening another, so one drone crossing is one alert.
 *
 * Contract with the caller: every point of a track gets exactly one `addScores` call (null when its
 * crop was dropped), and `endTrack` once the tracker ends it. With rejoin, `tick(at)` after each frame
 * (no track starting at or before `at` is still unknown to the judge) lets held alerts close on time,
 * and `flush()` when the camera stops closes what is held once every result is in.
 */
export class TrackJudge {
  private readonly books = new Map<number, Book>();
  private readonly alerts = new Set<Alert>();
  private chain: Promise<unknown> = Promise.resolve();
  private tickAt = -Infinity;
  private flushed = false;
  /** Capture time up to which the scene is over (fence()). */
  private fenceAt = -Infinity;
  private readonly rejoin: { ms: number; sizes: number; sizesPerSecond: number };

  constructor(readonly options: TrackJudgeOptions) {
    this.rejoin = { ms: options.rejoinMs ?? 0, sizes: options.rejoinSizes ?? DEFAULT_REJOIN.rejoinSizes, sizesPerSecond: options.rejoinSizesPerSecond ?? DEFAULT_REJOIN.rejoinSizesPerSecond };
  }

  private get model(): VerdictModel {
    const v = this.options.verdict;
    return typeof v === 'function' ? v() : v;
  }

  /** Tracks with results still outstanding, and alerts held for a track to rejoin. */
  get liveTracks(): number {
    return this.books.size + [...this.alerts].filter((a) => a.live === 0).length;
  }

  addScores(track: Track, seq: number, probabilities: Float32Array | readonly number[] | null): Promise<TrackAlertEvent[]> {
    const p = probabilities === null ? null : probabilities instanceof Float32Array ? probabilities : Float32Array.from(probabilities);
    return this.serial(() => {
      this.book(track).pending.set(seq, p);
      return this.pump();
    });
  }

  endTrack(track: Track): Promise<TrackAlertEvent[]> {
    return this.serial(() => {
      this.book(track).ending = true;
      return this.pump();
    });
  }

  /**
   * Capture time `at` is over: every point up to it has been reported to its track, and no track whose
   * first point is at or before it is still unknown here. Held alerts whose wait is over close.
   */
  tick(at: number): Promise<TrackAlertEvent[]> {
    return this.serial(() => {
      this.tickAt = Math.max(this.tickAt, at);
      this.flushed = false;
      return this.pump();
    });
  }

  /**
   * The scene starts over after capture time `at` (a looping file's next pass): no track after it joins
   * an alert of before it (rejoin), and the alerts of before it close once their results are in, without
   * waiting out `rejoinMs`. Without this, the next pass's drone, a few sizes from where it was at the
   * file's end, continued the last pass's alert instead of opening its own.
   */
  fence(at: number): Promise<TrackAlertEvent[]> {
    return this.serial(() => {
      this.fenceAt = Math.max(this.fenceAt, at);
      return this.pump();
    });
  }

  /** No track will come any more (the camera stopped): held alerts close once every result is in. */
  flush(): Promise<TrackAlertEvent[]> {
    return this.serial(() => {
      this.flushed = true;
      return this.pump();
    });
  }

  /** The index of the point whose crop opened the track's alert, or joined it to one (null: none). */
  openedAt(trackId: number): number | null {
    const book = this.books.get(trackId);
    return book?.alert ? book.alertAtPoint : null;
  }

  /** The latest verdict of a track (null before its first judged crop). */
  verdictOf(trackId: number): Verdict | null {
    return this.books.get(trackId)?.verdict ?? null;
  }

  // One step at a time for the whole camera: verdicts are awaited, and two results must never be
  // applied at once.
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.chain.then(step, step);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private book(track: Track): Book {
    let book = this.books.get(track.id);
    if (!book) {
      book = { track, applied: 0, pending: new Map(), probabilities: [], verdict: null, alert: null, alertAtPoint: -1, ending: false };
      this.books.set(track.id, book);
    }
    return book;
  }

  /**
   * Applies results in capture-time order over every track (ties by track id), as far as they are in:
   * the earliest point without its result stops it. Held alerts close at their place in that order.
   */
  private async pump(): Promise<TrackAlertEvent[]> {
    const events: TrackAlertEvent[] = [];
    for (;;) {
      for (const book of [...this.books.values()]) if (book.ending && book.applied >= book.track.points.length) this.finish(book, events);
      const next = this.nextPoint();
      this.closeDue(next ? next.track.points[next.applied].at : Infinity, events);
      if (!next) break;
      const seq = next.track.points[next.applied].seq;
      if (!next.pending.has(seq)) break;
      const p = next.pending.get(seq)!;
      next.pending.delete(seq);
      next.applied++;
      if (!p || this.thinned(next, next.applied - 1)) continue;
      next.probabilities.push(p);
      if (next.alert) next.alert.frames++;
      const event = await this.judge(next);
      if (event) events.push(event);
    }
    return events;
  }

  private thinned(book: Book, index: number): boolean {
    return book.alert !== null && !onAlertGrid(index, book.alertAtPoint, this.options.alertEvery ?? 1);
  }

  private nextPoint(): Book | null {
    let best: Book | null = null;
    for (const book of this.books.values()) {
      if (book.applied >= book.track.points.length) continue;
      if (!best) {
        best = book;
        continue;
      }
      const a = book.track.points[book.applied].at;
      const b = best.track.points[best.applied].at;
      if (a < b || (a === b && book.track.id < best.track.id)) best = book;
    }
    return best;
  }

  private finish(book: Book, events: TrackAlertEvent[]): void {
    this.books.delete(book.track.id);
    const alert = book.alert;
    if (!alert) return;
    alert.members.find((m) => m.book === book)!.book = null;
    alert.live--;
    if (alert.live === 0 && this.rejoin.ms <= 0) this.close(alert, events);
  }

  /**
   * Held alerts (no member left) close once nothing can rejoin them any more: past `rejoinMs` after their
   * last point, and past every unalerted track near them that started in that window and could still
   * reach the alert in its own `rejoinMs`; `horizon` is the earliest point not applied yet.
   */
  private closeDue(horizon: number, events: TrackAlertEvent[]): void {
    const due: Array<{ alert: Alert; at: number }> = [];
    for (const alert of this.alerts) {
      if (alert.live > 0) continue;
      const last = Math.max(...alert.members.map((m) => m.track.lastAt));
      // Behind a fence, nothing can join any more but tracks of its own scene still being judged.
      const fenced = last <= this.fenceAt;
      let at = fenced ? last : last + this.rejoin.ms;
      for (const book of this.books.values()) if (!book.alert && this.related(alert, book.track)) at = Math.max(at, fenced ? book.track.lastAt : book.track.firstAt + this.rejoin.ms);
      if (at < horizon && (this.flushed || fenced || this.tickAt >= at)) due.push({ alert, at });
    }
    due.sort((a, b) => a.at - b.at || a.alert.id - b.alert.id);
    for (const d of due) this.close(d.alert, events);
  }

  private close(alert: Alert, events: TrackAlertEvent[]): void {
    this.alerts.delete(alert);
    events.push(this.event(alert, 'closed', null));
  }

  private async judge(book: Book): Promise<TrackAlertEvent | null> {
    const o = this.options;
    if (book.probabilities.length < o.minCrops) return null;
    const points = book.track.points.slice(0, book.applied);
    book.verdict = await this.model.judge(points, book.probabilities, o.frameWidth, o.frameHeight);
    const at = points[points.length - 1].at;
    const alert = book.alert;
    if (alert) {
      alert.best = Math.max(alert.best, book.verdict.scores[alert.label] ?? 0);
      alert.scores = { ...book.verdict.scores };
      if (at - alert.lastEmit < o.updateEveryMs) return null;
      alert.lastEmit = at;
      return this.event(alert, 'update', book);
    }
    // Outside the camera's alert zones a track does not alert (yet: it may still enter one).
    if (o.admits && !o.admits(points[points.length - 1].box)) return null;
    for (const label of o.alertLabels) {
      const score = book.verdict.scores[label] ?? 0;
      if (score > 0 && score >= o.threshold) {
        const held = this.rejoinable(book.track, label, at);
        if (held) {
          // The same object back (or a second track on it): its alert goes on, under its first track's id.
          held.members.push({ track: book.track, book });
          held.live++;
          held.frames += book.probabilities.length;
          held.best = Math.max(held.best, score);
          held.scores = { ...book.verdict.scores };
          held.lastEmit = at;
          book.alert = held;
          book.alertAtPoint = book.applied - 1;
          return this.event(held, 'update', book);
        }
        const opened: Alert = { id: book.track.id, label, best: score, lastEmit: at, members: [{ track: book.track, book }], live: 1, frames: book.probabilities.length, scores: { ...book.verdict.scores } };
        this.alerts.add(opened);
        book.alert = opened;
        book.alertAtPoint = book.applied - 1;
        return this.event(opened, 'open', book);
      }
    }
    return null;
  }

  /**
   * The alert a track reaching `label` at `at` continues, if any: same label, a member it is related to,
   * and still waiting for it (`at` within `rejoinMs` of the member's last point so far or of the track's
   * own start). Only points up to `at` are used, all applied by then: the answer is the same whatever
   * order results came in. The best gate fit wins.
   */
  private rejoinable(track: Track, label: string, at: number): Alert | null {
    if (this.rejoin.ms <= 0) return null;
    let found: { alert: Alert; fit: number } | null = null;
    for (const alert of this.alerts) {
      if (alert.label !== label) continue;
      const lastSoFar = Math.max(...alert.members.map((m) => lastPointAtOrBefore(m.track, at)?.at ?? -Infinity));
      if (at > Math.max(lastSoFar, track.firstAt) + this.rejoin.ms) continue;
      for (const m of alert.members) {
        const fit = this.fit(m.track, track);
        if (fit !== null && (!found || fit < found.fit || (fit === found.fit && alert.id < found.alert.id))) found = { alert, fit };
      }
    }
    return found?.alert ?? null;
  }

  private related(alert: Alert, track: Track): boolean {
    return alert.members.some((m) => this.fit(m.track, track) !== null);
  }

  /**
   * How well two tracks pass for one object: the later-starting one's first box against the earlier
   * one's last box at or before that moment, as a share of the gate (null: outside it, or more than
   * `rejoinMs` apart). The gate grows with the objects' size and with the time between the two points.
   */
  private fit(a: Track, b: Track): number | null {
    if (a === b) return null;
    // Two scenes (fence()): never one object.
    if ((a.firstAt <= this.fenceAt) !== (b.firstAt <= this.fenceAt)) return null;
    const [early, late] = a.firstAt < b.firstAt || (a.firstAt === b.firstAt && a.id < b.id) ? [a, b] : [b, a];
    const start = late.points[0];
    const before = lastPointAtOrBefore(early, start.at);
    if (!before) return null;
    const gap = start.at - before.at;
    if (gap > this.rejoin.ms) return null;
    const size = Math.max(before.box.width, before.box.height, start.box.width, start.box.height);
    const gate = size * (this.rejoin.sizes + (this.rejoin.sizesPerSecond * gap) / 1000);
    const c0 = centre(before.box);
    const c1 = centre(start.box);
    const distance = Math.hypot(c1.x - c0.x, c1.y - c0.y);
    return distance <= gate ? distance / gate : null;
  }

  private event(alert: Alert, kind: TrackAlertEvent['kind'], book: Book | null): TrackAlertEvent {
    const parts = alert.members.map((m) => ({ track: m.track, points: m.track.points.slice(0, Math.max(1, m.book ? m.book.applied : m.track.points.length)) }));
    const latest = book ? parts.find((p) => p.track === book.track)! : parts.reduce((a, b) => (b.points[b.points.length - 1].at > a.points[a.points.length - 1].at ? b : a));
    const last = latest.points[latest.points.length - 1];
    const path = parts.flatMap((p) => p.track.path().slice(0, p.points.length));
    if (parts.length > 1) path.sort((a, b) => a.at - b.at);
    return {
      kind,
      trackId: alert.id,
      label: alert.label,
      score: kind === 'closed' ? alert.best : book?.verdict?.scores[alert.label] ?? 0,
      scores: { ...alert.scores },
      firstAt: Math.min(...parts.map((p) => p.points[0].at)),
      lastAt: last.at,
      frames: alert.frames,
      box: { ...last.box },
      path,
      tracks: alert.members.map((m) => m.track.id),
    };
  }
}

function lastPointAtOrBefore(track: Track, at: number): TrackPoint | null {
  const points = track.points;
  for (let i = points.length - 1; i >= 0; i--) if (points[i].at <= at) return points[i];
  return null;
}
