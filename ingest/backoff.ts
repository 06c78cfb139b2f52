/**
 * Exponential backoff with full jitter: the n-th retry waits a uniform random time between zero and
 * min(max, min * 2^n). Jitter spreads reconnects of many cameras that lost the same network at once.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Uniform [0, 1); injectable so tests can pin the draw. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    if (!(options.minMs > 0) || options.maxMs < options.minMs) throw new RangeError(`backoff needs 0 < minMs <= maxMs, got ${options.minMs}..${options.maxMs}`);
    this.random = options.random ?? Math.random;
  }

  /** Ceiling of the next wait, before jitter. */
  ceiling(): number {
    return Math.min(this.options.maxMs, this.options.minMs * 2 ** Math.min(this.attempt, 30));
  }

  /** The next wait in ms; each call doubles the ceiling until maxMs. Never below minMs / 2, so a
   * failing source is not hammered in a tight loop. */
  next(): number {
    const ceiling = this.ceiling();
    this.attempt++;
    return Math.max(this.options.minMs / 2, Math.floor(this.random() * ceiling));
  }

  /** After a success (the camera delivered frames again). */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
