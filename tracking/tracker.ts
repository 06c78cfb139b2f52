import type { Box } from '../core/image/crop-pixels.js';
import { centre, Track, type TrackPoint } from './track.js';

/** A moving region as the motion stage reports it (ingest/motion.ts Region fits). */
export interface MovingRegion extends Box {
  area: number;
}

export interface TrackerOptions {
  /** Matches needed before a track is confirmed (shorter ones are flicker, never judged). */
  confirmHits: number;
  /** A track with no match for this long (capture time) has ended. */
  maxGapMs: number;
  /** A tentative track with no match for this long is dropped. */
  tentativeGapMs: number;
  /** Largest jump from the predicted centre, as a share of the frame diagonal, at any speed. */
  gate: number;
  /** ... and at least this many times the object's own size. */
  gateSizes: number;
  /** Weight of a new step in the velocity estimate. */
  velocitySmoothing: number;
  /** Most live tracks per camera: beyond it the newest regions start none (a noisy scene cannot run away). */
  maxTracks: number;
}

export const DEFAULT_TRACKER: TrackerOptions = {
  confirmHits: 2,
  maxGapMs: 1_500,
  tentativeGapMs: 600,
  gate: 0.12,
  gateSizes: 3,
  velocitySmoothing: 0.5,
  maxTracks: 12,
};

export interface TrackerUpdate {
  /** Tracks matched in this frame (confirmed or not), with this frame's point last. */
  observed: Track[];
  /** Confirmed tracks that ended with this frame (dropped tentative ones are not reported). */
  ended: Track[];
}

/**
 * Per-camera multi-object tracker: each frame's moving regions are assigned to live tracks by a cost
 * that mixes overlap with the constant-velocity prediction and the distance to it, inside a gate that
 * grows with the object's size; unmatched regions start tentative tracks, tracks confirm after
 * `confirmHits` matches, and end after `maxGapMs` of capture time without one. Pure and synchronous,
 * so the live pipeline, offline clip prediction and the trainer follow objects identically.
 */
export class Tracker {
  readonly options: TrackerOptions;
  private readonly live: Track[] = [];
  private nextId = 1;
  private readonly diagonal: number;

  constructor(readonly frameWidth: number, readonly frameHeight: number, options: Partial<TrackerOptions> = {}) {
    this.options = { ...DEFAULT_TRACKER, ...options };
    this.diagonal = Math.hypot(frameWidth, frameHeight);
  }

  get tracks(): readonly Track[] {
    return this.live;
  }

  update(regions: readonly MovingRegion[], seq: number, at: number): TrackerUpdate {
    const o = this.options;
    const pairs: Array<{ t: number; r: number; cost: number }> = [];
    for (const [ti, track] of this.live.entries()) {
      const predicted = track.predict(at);
      const pc = centre(predicted);
      const size = Math.max(predicted.width, predicted.height);
      const gate = Math.max(o.gate * this.diagonal, o.gateSizes * size);
      for (const [ri, region] of regions.entries()) {
        const rc = centre(region);
        const distance = Math.hypot(rc.x - pc.x, rc.y - pc.y);
        const overlap = iou(predicted, region);
        if (distance > gate && overlap === 0) continue;
        pairs.push({ t: ti, r: ri, cost: (1 - overlap) + distance / gate });
      }
    }
    // Greedy by cost: with a handful of objects per camera it agrees with an optimal assignment.
    pairs.sort((a, b) => a.cost - b.cost || a.t - b.t || a.r - b.r);
    const usedT = new Set<number>();
    const usedR = new Set<number>();
    const observed: Track[] = [];
    for (const p of pairs) {
      if (usedT.has(p.t) || usedR.has(p.r)) continue;
      usedT.add(p.t);
      usedR.add(p.r);
      const track = this.live[p.t];
      track.add(point(regions[p.r], seq, at), o.velocitySmoothing);
      if (track.state === 'tentative' && track.points.length >= o.confirmHits) track.state = 'confirmed';
      observed.push(track);
    }
    const ended: Track[] = [];
    for (let i = this.live.length - 1; i >= 0; i--) {
      const track = this.live[i];
      if (usedT.has(i)) continue;
      track.misses++;
      const gap = at - track.lastAt;
      if (gap >= (track.state === 'confirmed' ? o.maxGapMs : o.tentativeGapMs)) {
        this.live.splice(i, 1);
        if (track.state === 'confirmed') ended.unshift(track);
        track.state = 'ended';
      }
    }
    for (const [ri, region] of regions.entries()) {
      if (usedR.has(ri) || this.live.length >= o.maxTracks) continue;
      const track = new Track(this.nextId++, point(region, seq, at));
      if (o.confirmHits <= 1) track.state = 'confirmed';
      this.live.push(track);
      observed.push(track);
    }
    return { observed, ended };
  }

  /** Ends every live track (the camera stopped, the clip is over); returns the confirmed ones. */
  endAll(): Track[] {
    const ended = this.live.filter((t) => t.state === 'confirmed');
    for (const t of this.live) t.state = 'ended';
    this.live.length = 0;
    return ended;
  }
}

function point(region: MovingRegion, seq: number, at: number): TrackPoint {
  return { seq, at, box: { x: region.x, y: region.y, width: region.width, height: region.height }, area: region.area };
}

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}
