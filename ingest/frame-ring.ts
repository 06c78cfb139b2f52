import type { FramePool } from './frame-pool.js';

/** A decoded frame kept for evidence: packed RGB24 at the decode size. */
export interface RingFrame {
  seq: number;
  /** Capture time, ms. */
  at: number;
  rgb: Buffer;
}

/**
 * The last few seconds of one camera's frames, kept by reference (no copy, no encoding): snapshots
 * and evidence clips are cut from it only when an alert opens, updates or closes, never per frame.
 */
export class FrameRing {
  private readonly frames: RingFrame[] = [];

  /** `pool`: where a frame's buffer goes when it leaves the ring (absent: to the garbage collector). */
  constructor(readonly capacity: number, private readonly pool?: FramePool) {}

  push(frame: RingFrame): void {
    if (this.capacity <= 0) return;
    this.frames.push(frame);
    if (this.frames.length > this.capacity) this.pool?.recycle(this.frames.shift()!.rgb);
  }

  /**
   * Keeps these frames' pixels as they are until the returned function is called: whoever reads
   * frames of the ring asynchronously (snapshots, clips) holds them, or they could be reused for
   * new frames meanwhile.
   */
  hold(frames: readonly RingFrame[]): () => void {
    return this.pool ? this.pool.hold(frames.map((f) => f.rgb)) : () => {};
  }

  /** The frame captured at `at`, or the newest one before it (the exact one may have left the ring). */
  at(at: number): RingFrame | null {
    let best: RingFrame | null = null;
    for (const f of this.frames) {
      if (f.at <= at) best = f;
      else break;
    }
    return best ?? this.frames[0] ?? null;
  }

  /** Frames captured in [from, to], oldest first. */
  between(from: number, to: number): RingFrame[] {
    return this.frames.filter((f) => f.at >= from && f.at <= to);
  }

  get size(): number {
    return this.frames.length;
  }
}
