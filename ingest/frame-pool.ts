/**
 * The frame buffers of one camera connection, used again once nothing reads them any more.
 *
 * Why: every decoded frame (1 MB at 640x512) stays in the camera's FrameRing for seconds, so it is
 * promoted and dies old, and V8 counts the ArrayBuffer bytes allocated since the last Mark-Compact
 * against the old-generation limit: a fresh buffer per frame was what started nearly every
 * Mark-Compact of the ingest process (two to three a second with 12 cameras, with a JS heap that
 * hardly grew). Reused buffers are allocated once per connection.
 *
 * Who may reuse what: the ring gives a frame back when it leaves (`recycle`); anyone who reads a
 * frame's pixels asynchronously (evidence encoding, previews) holds it for that time, and a frame
 * that left the ring while held is reused only once its last holder released it.
 */
export class FramePool {
  /** Buffers nobody uses, ready for the next frame (a few at most: the ring returns one per frame). */
  private readonly spare: Buffer[] = [];
  /** Buffers being read asynchronously, and by how many readers. */
  private readonly holders = new Map<Buffer, number>();
  /** Buffers the ring let go of while they were held: spare once released. */
  private readonly released = new Set<Buffer>();

  constructor(readonly frameBytes: number, private readonly maxSpare = 2) {}

  /** A buffer for the next frame: a spare one, or a new one. Its content is not defined. */
  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(this.frameBytes);
  }

  /** Whoever owned `frame` (the ring) is done with it: it is reused once no reader holds it. */
  recycle(frame: Buffer): void {
    if (frame.length !== this.frameBytes) return;
    if (this.holders.has(frame)) this.released.add(frame);
    else this.keep(frame);
  }

  /** Keeps these frames from being reused until the returned function is called (once). */
  hold(frames: readonly Buffer[]): () => void {
    for (const f of frames) this.holders.set(f, (this.holders.get(f) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const f of frames) {
        const n = (this.holders.get(f) ?? 1) - 1;
        if (n > 0) {
          this.holders.set(f, n);
          continue;
        }
        this.holders.delete(f);
        if (this.released.delete(f)) this.keep(f);
      }
    };
  }

  private keep(frame: Buffer): void {
    if (this.spare.length < this.maxSpare && !this.spare.includes(frame)) this.spare.push(frame);
  }
}
