import { silentLogger, type Logger } from '../core/logger.js';
import type { AlertRecordRepository } from './alert-record-repository.js';

export interface RetentionOptions {
  /** Records last seen longer ago than this are deleted; 0 keeps everything. */
  days: number;
  everyMs?: number;
  now?: () => number;
  logger?: Logger;
}

const DAY_MS = 24 * 3600 * 1000;

/** Deletes old alert records (with their snapshots and reviews) on a timer. */
export class RetentionTimer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(private readonly repo: AlertRecordRepository, private readonly options: RetentionOptions) {}

  /** One pass now; returns how many records it deleted. */
  async runOnce(): Promise<number> {
    if (this.options.days <= 0) return 0;
    const now = this.options.now?.() ?? Date.now();
    const deleted = await this.repo.deleteBefore(now - this.options.days * DAY_MS);
    if (deleted) (this.options.logger ?? silentLogger).info({ deleted, days: this.options.days }, `review retention: ${deleted} alert records deleted`);
    return deleted;
  }

  start(): void {
    if (this.timer || this.options.days <= 0) return;
    const tick = () => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((err: unknown) => {
          (this.options.logger ?? silentLogger).warn({ err }, 'review retention failed (retrying on the next pass)');
          return 0;
        })
        .finally(() => (this.running = null));
    };
    tick();
    this.timer = setInterval(tick, this.options.everyMs ?? 3600_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
