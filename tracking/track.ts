import type { Box } from '../core/image/crop-pixels.js';

/** Where a track's object was in one frame. `area` is the motion stage's changed pixels (flapping shows in it). */
export interface TrackPoint {
  seq: number;
  /** Capture time of the frame, ms. */
  at: number;
  box: Box;
  area: number;
}

export type TrackState = 'tentative' | 'confirmed' | 'ended';

/**
 * One moving object followed across frames: its boxes over time and a constant-velocity estimate of
 * where it goes next. The tracker owns the state changes; readers get the history.
 */
export class Track {
  readonly points: TrackPoint[] = [];
  state: TrackState = 'tentative';
  /** Frames since the last match, and when that was. */
  misses = 0;
  /** Centre velocity in pixels per ms, smoothed. */
  vx = 0;
  vy = 0;

  constructor(readonly id: number, first: TrackPoint) {
    this.points.push(first);
  }

  get confirmed(): boolean {
    return this.state === 'confirmed';
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  get last(): TrackPoint {
    return this.points[this.points.length - 1];
  }

  get firstAt(): number {
    return this.points[0].at;
  }

  get lastAt(): number {
    return this.last.at;
  }

  /** Centre of the last box moved on by the velocity to time `at`, with the last size. */
  predict(at: number): Box {
    const b = this.last.box;
    const dt = at - this.last.at;
    return { x: b.x + this.vx * dt, y: b.y + this.vy * dt, width: b.width, height: b.height };
  }

  add(point: TrackPoint, smoothing: number): void {
    const prev = this.last;
    const dt = point.at - prev.at;
    if (dt > 0) {
      const vx = (centre(point.box).x - centre(prev.box).x) / dt;
      const vy = (centre(point.box).y - centre(prev.box).y) / dt;
      // The first step sets the velocity; later ones blend in, so one jittery box does not throw it.
      const a = this.points.length === 1 ? 1 : smoothing;
      this.vx = a * vx + (1 - a) * this.vx;
      this.vy = a * vy + (1 - a) * this.vy;
    }
    this.points.push(point);
    this.misses = 0;
  }

  /** Box centres over time, for alerts and snapshots. */
  path(): Array<{ x: number; y: number; at: number }> {
    return this.points.map((p) => ({ ...centre(p.box), at: p.at }));
  }
}

export function centre(b: Box): { x: number; y: number } {
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}
