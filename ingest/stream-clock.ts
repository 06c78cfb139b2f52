/**
 * A stream's two clocks.
 *
 * The timeline (`capture`) is what tracks and alerts live on: the stream's own timestamps from the
 * wall-clock moment its first frame arrived, never moved after that. Tracking, the verdict's update
 * spacing and re-identification all compare these times, so the same stream must give the same
 * differences however late any frame was processed: a timeline re-anchored whenever a frame came in
 * early once put a random step (the first frame's lateness under load) into the spacing, and the same
 * clip then gave other tracks and alerts; a connect burst (frames arriving at once) squeezed frames to
 * 1 ms apart.
 *
 * The wall estimate (`wall`) is what people see and what latency is measured from: when the frames
 * arrive clearly ahead of the timeline (the first one was late: a slow start, a burst), the moment of
 * timestamp 0 was earlier than the timeline says, and the estimate moves back by that much. Small
 * jitter (250 ms) does not move it. The timeline runs `skewMs` ahead of the estimate; `wall(at)` converts.
 */
export class StreamClock {
  /** Epoch ms of the stream's timestamp 0 on the timeline; null before the first frame. */
  anchor: number | null = null;
  /** The best estimate of when timestamp 0 was captured (epoch ms); at or before `anchor`. */
  wallAnchor: number | null = null;
  private last = 0;

  /** The timeline time of a frame with timestamp `ptsMs` that arrived at `now`. */
  capture(ptsMs: number, now = Date.now()): number {
    if (this.anchor === null) this.anchor = now - ptsMs;
    if (this.wallAnchor === null || this.wallAnchor + ptsMs > now + JITTER_MS) this.wallAnchor = Math.min(this.anchor, now - ptsMs);
    // Timestamps of decoded frames only increase; should one not, it still comes after the last.
    const at = Math.max(this.anchor + ptsMs, this.last + 1);
    this.last = at;
    return at;
  }

  /** How far the timeline runs ahead of the wall estimate (ms, >= 0). */
  get skewMs(): number {
    return this.anchor === null || this.wallAnchor === null ? 0 : this.anchor - this.wallAnchor;
  }

  /** A timeline time as the wall-clock moment of capture. */
  wall(at: number): number {
    return at - this.skewMs;
  }
}

const JITTER_MS = 250;
