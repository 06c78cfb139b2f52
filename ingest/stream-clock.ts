/**
 * A stream's capture times: its own timestamps, anchored on the wall clock at its first frame, so
 * tracks and alerts follow the video rather than how late it was processed (a lagging pipeline shows as
 * capture-to-alert latency instead of being hidden). Re-anchored only when the stream runs clearly
 * ahead of the wall clock (it paused and resumed): small jitter must not move capture times. Capture
 * times never go backwards (a re-anchor after a burst must not reorder frames).
 */
export class StreamClock {
  /** Epoch ms of the stream's timestamp 0; null before the first frame. */
  anchor: number | null = null;
  private last = 0;

  /** The capture time of a frame with timestamp `ptsMs` that arrived at `now`. */
  capture(ptsMs: number, now = Date.now()): number {
    if (this.anchor === null || this.anchor + ptsMs > now + 250) this.anchor = now - ptsMs;
    const at = Math.max(this.anchor + ptsMs, this.last + 1);
    this.last = at;
    return at;
  }
}
