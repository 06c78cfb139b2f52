import type { Box } from '../core/image/crop-pixels.js';
import type { Track } from './track.js';
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
}

export interface TrackAlertEvent {
  kind: 'open' | 'update' | 'closed';
  trackId: number;
  label: string;
  /** The verdict's score for the alert's label (highest while open, for `closed`). */
  score: number;
  scores: Record<string, number>;
  firstAt: number;
  lastAt: number;
  /** Crops judged so far. */
  frames: number;
  box: Box;
  path: Array<{ x: number; y: number; at: number }>;
}

interface Book {
  track: Track;
  /** Points of the track whose crop result has been applied, in order. */
  applied: number;
  pending: Map<number, Float32Array | null>;
  probabilities: Float32Array[];
  verdict: Verdict | null;
  open: { label: string; best: number; lastEmit: number; atPoint: number } | null;
  ending: boolean;
}

/**
 * Per camera: keeps each track's crop results, applies them in the order of the track's points (they
 * may come back from several workers in any order, so the verdict at every step is the same whichever
 * worker scored what), asks the verdict model, and turns verdicts into one alert per track: opened
 * when an alert label's score reaches the threshold, updated while the track lives, closed when it ends.
 *
 * Contract with the caller: every point of a track gets exactly one `addScores` call (null when its
 * crop was dropped), and `endTrack` once the tracker ends it.
 */
export class TrackJudge {
  private readonly books = new Map<number, Book>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly options: TrackJudgeOptions) {}

  private get model(): VerdictModel {
    const v = this.options.verdict;
    return typeof v === 'function' ? v() : v;
  }

  /** Tracks with results still outstanding or an alert still open. */
  get liveTracks(): number {
    return this.books.size;
  }

  addScores(track: Track, seq: number, probabilities: Float32Array | readonly number[] | null): Promise<TrackAlertEvent[]> {
    const p = probabilities === null ? null : probabilities instanceof Float32Array ? probabilities : Float32Array.from(probabilities);
    return this.serial(() => {
      const book = this.book(track);
      book.pending.set(seq, p);
      return this.advance(book);
    });
  }

  endTrack(track: Track): Promise<TrackAlertEvent[]> {
    return this.serial(() => {
      const book = this.book(track);
      book.ending = true;
      return this.advance(book);
    });
  }

  /** The index of the point whose crop opened the track's alert (null: no alert open). */
  openedAt(trackId: number): number | null {
    return this.books.get(trackId)?.open?.atPoint ?? null;
  }

  /** The latest verdict of a track (null before its first judged crop). */
  verdictOf(trackId: number): Verdict | null {
    return this.books.get(trackId)?.verdict ?? null;
  }

  // One step at a time for the whole camera: verdicts are awaited, and two results of one track must
  // never be applied at once.
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.chain.then(step, step);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private book(track: Track): Book {
    let book = this.books.get(track.id);
    if (!book) {
      book = { track, applied: 0, pending: new Map(), probabilities: [], verdict: null, open: null, ending: false };
      this.books.set(track.id, book);
    }
    return book;
  }

  private async advance(book: Book): Promise<TrackAlertEvent[]> {
    const events: TrackAlertEvent[] = [];
    const points = book.track.points;
    while (book.applied < points.length && book.pending.has(points[book.applied].seq)) {
      const seq = points[book.applied].seq;
      const p = book.pending.get(seq)!;
      book.pending.delete(seq);
      book.applied++;
      if (!p || this.thinned(book, book.applied - 1)) continue;
      book.probabilities.push(p);
      const event = await this.judge(book);
      if (event) events.push(event);
    }
    if (book.ending && book.applied >= points.length) {
      if (book.open) events.push(this.event(book, 'closed'));
      this.books.delete(book.track.id);
    }
    return events;
  }

  private thinned(book: Book, index: number): boolean {
    const every = this.options.alertEvery ?? 1;
    return every > 1 && book.open !== null && (index - book.open.atPoint) % every !== 0;
  }

  private async judge(book: Book): Promise<TrackAlertEvent | null> {
    const o = this.options;
    if (book.probabilities.length < o.minCrops) return null;
    const points = book.track.points.slice(0, book.applied);
    book.verdict = await this.model.judge(points, book.probabilities, o.frameWidth, o.frameHeight);
    const at = points[points.length - 1].at;
    if (book.open) {
      book.open.best = Math.max(book.open.best, book.verdict.scores[book.open.label] ?? 0);
      if (at - book.open.lastEmit < o.updateEveryMs) return null;
      book.open.lastEmit = at;
      return this.event(book, 'update');
    }
    // Outside the camera's alert zones a track does not alert (yet: it may still enter one).
    if (o.admits && !o.admits(points[points.length - 1].box)) return null;
    for (const label of o.alertLabels) {
      const score = book.verdict.scores[label] ?? 0;
      if (score > 0 && score >= o.threshold) {
        book.open = { label, best: score, lastEmit: at, atPoint: book.applied - 1 };
        return this.event(book, 'open');
      }
    }
    return null;
  }

  private event(book: Book, kind: TrackAlertEvent['kind']): TrackAlertEvent {
    const open = book.open!;
    const points = book.track.points.slice(0, Math.max(1, book.applied));
    const verdict = book.verdict!;
    return {
      kind,
      trackId: book.track.id,
      label: open.label,
      score: kind === 'closed' ? open.best : verdict.scores[open.label] ?? 0,
      scores: { ...verdict.scores },
      firstAt: points[0].at,
      lastAt: points[points.length - 1].at,
      frames: book.probabilities.length,
      box: { ...points[points.length - 1].box },
      path: book.track.path().slice(0, points.length),
    };
  }
}
