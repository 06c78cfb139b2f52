import { silentLogger, type Logger } from '../core/logger.js';

/** What QueuePeers needs of the frame queue: the Redis client names of the workers serving it. */
export interface WorkerLister {
  workerNames(): Promise<string[]>;
}

export interface QueuePeersOptions {
  queue: WorkerLister;
  /** This process's own worker's BullMQ name (FrameWorker.name): its connection is not a peer. */
  selfName: string;
  /** How often to look again (workers come and go: `skywatch worker` started beside `start`). */
  intervalMs?: number;
  logger?: Logger;
}

/**
 * Whether a process other than this one serves the frame queue, as Redis sees it (BullMQ names its
 * workers' connections; CLIENT LIST lists them). A process that ingests and scores (`skywatch start`)
 * gains nothing by spilling its frames to the queue when the only worker on it is its own: the same
 * batcher scores them either way, after a Redis round trip, BullMQ's bookkeeping and a wait for one
 * of the worker's job slots (at 24 cameras on 2 cores the spilled frames came back 1.2-1.7 s after the
 * hand-over at p99, against 0.3 s in process; docs/BENCHMARKS.md). Null while unknown (not asked yet,
 * Redis away, or CLIENT LIST refused, as some managed services do): the caller keeps to its limit.
 */
export class QueuePeers {
  private known: boolean | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly logger: Logger;
  private warned = false;

  constructor(private readonly options: QueuePeersOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** True: another process's worker serves the queue; false: only this one's (or none); null: unknown. */
  get present(): boolean | null {
    return this.known;
  }

  async refresh(): Promise<boolean | null> {
    try {
      const own = `:w:${this.options.selfName}`;
      this.known = (await this.options.queue.workerNames()).some((name) => !name.endsWith(own));
    } catch (err) {
      this.known = null;
      if (!this.warned) this.logger.warn({ err }, 'cannot list the frame queue\'s workers: frames past inference.inProcessFrames go through the queue');
      this.warned = true;
    }
    return this.known;
  }

  /** Looks now and then every `intervalMs` until stop(). */
  start(): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.intervalMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
