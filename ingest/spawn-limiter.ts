/** Which queue a start waits in: a camera's first start, or the next start of one already starting. */
export type SpawnLane = 'first' | 'next';

interface Waiter {
  resolve: () => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Spaces out process starts (ffprobe, ffmpeg) for all cameras of one ingestor: twenty unreachable
 * cameras reconnecting at once must not fork twenty children in the same instant, each fork stalling
 * the event loop that also serves the API. One start every 1/rate seconds, in order, except that a
 * camera already starting (its ffmpeg after its ffprobe, its crop stream) goes before cameras not
 * started yet: with many cameras added at once they come up one after another, instead of every one
 * being probed before the first is decoded. A wait given up (its signal aborted) frees its place.
 */
export class SpawnLimiter {
  private readonly intervalMs: number;
  /** When the latest start was granted, on `now`'s clock. */
  private lastGrant = -Infinity;
  private readonly lanes: Record<SpawnLane, Waiter[]> = { next: [], first: [] };
  private timer: NodeJS.Timeout | null = null;

  constructor(perSecond: number, private readonly now: () => number = Date.now) {
    if (!(perSecond > 0)) throw new RangeError(`spawn rate must be positive, got ${perSecond}`);
    this.intervalMs = 1000 / perSecond;
  }

  /** Resolves when this caller may start a process; rejects if `signal` aborts first. */
  async acquire(signal?: AbortSignal, lane: SpawnLane = 'first'): Promise<void> {
    if (signal?.aborted) throw new Error('aborted');
    if (this.waiting === 0 && this.now() - this.lastGrant >= this.intervalMs) {
      this.lastGrant = this.now();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const queue = this.lanes[lane];
      const waiter: Waiter = { resolve, signal };
      if (signal) {
        waiter.onAbort = () => {
          queue.splice(queue.indexOf(waiter), 1);
          reject(new Error('aborted'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      queue.push(waiter);
      this.schedule();
    });
  }

  private get waiting(): number {
    return this.lanes.next.length + this.lanes.first.length;
  }

  private schedule(): void {
    if (this.timer || this.waiting === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const waiter = this.lanes.next.shift() ?? this.lanes.first.shift();
      if (waiter) {
        this.lastGrant = this.now();
        if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
        waiter.resolve();
      }
      this.schedule();
    }, Math.max(0, this.lastGrant + this.intervalMs - this.now()));
  }
}
