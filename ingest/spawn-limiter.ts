/**
 * Spaces out process starts (ffprobe, ffmpeg) for all cameras of one ingestor: twenty unreachable
 * cameras reconnecting at once must not fork twenty children in the same instant, each fork stalling
 * the event loop that also serves the API. Starts are granted in order, one every 1/rate seconds.
 */
export class SpawnLimiter {
  private next = 0;
  private readonly intervalMs: number;

  constructor(perSecond: number, private readonly now: () => number = Date.now) {
    if (!(perSecond > 0)) throw new RangeError(`spawn rate must be positive, got ${perSecond}`);
    this.intervalMs = 1000 / perSecond;
  }

  /** Resolves when this caller may start a process; rejects if `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const t = this.now();
    const slot = Math.max(t, this.next);
    this.next = slot + this.intervalMs;
    const wait = slot - t;
    if (wait <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, wait);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
