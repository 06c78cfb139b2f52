import { silentLogger, type Logger } from '../core/logger.js';
import type { RedisClient } from '../core/redis-client.js';
import type { Alert, AlertStream } from '../queue/alert-stream.js';
import type { FoldSettings } from './alert-record.js';
import type { AlertRecordRepository } from './alert-record-repository.js';

export interface AlertRecorderOptions {
  stream: AlertStream;
  /** A connection of its own: it blocks on the stream. */
  reader: RedisClient;
  repo: AlertRecordRepository;
  settings: FoldSettings;
  logger?: Logger;
  /** The cursor's name in the database; recorders with one name share their progress. */
  name?: string;
  blockMs?: number;
  /** Called with each event after it was folded (metrics, tests). */
  onEvent?: (alert: Alert) => void;
}

/**
 * Folds the live alert stream into alert records: reads from where it got to (a cursor kept in the
 * database, so a restart resumes and nothing is folded twice), copies each event's snapshot out of
 * Redis (where it expires) into the database when it is the alert's best, and waits for new events.
 * Redis or database errors are retried; events are never skipped.
 */
export class AlertRecorder {
  private running: Promise<void> | null = null;
  private stopped = false;
  folded = 0;

  constructor(private readonly options: AlertRecorderOptions) {}

  private get logger(): Logger {
    return this.options.logger ?? silentLogger;
  }

  start(): void {
    if (this.running) return;
    this.stopped = false;
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    this.running = null;
  }

  /** Folds every event up to the end of the stream now (used at start and by tests). */
  async catchUp(): Promise<number> {
    const name = this.options.name ?? 'default';
    let cursor = (await this.options.repo.getCursor(name)) ?? '0-0';
    let n = 0;
    for (;;) {
      const events = await this.options.stream.after(cursor, 200);
      if (events.length === 0) return n;
      cursor = await this.fold(events, name);
      n += events.length;
    }
  }

  private async fold(events: Alert[], name: string): Promise<string> {
    const { stream, repo, settings } = this.options;
    let last = '';
    for (const event of events) {
      const snapshot = event.snapshotUrl ? await stream.snapshot(event.id) : null;
      await repo.applyEvent(event, snapshot, settings);
      this.folded++;
      this.options.onEvent?.(event);
      last = event.id;
    }
    await repo.setCursor(name, last);
    return last;
  }

  private async loop(): Promise<void> {
    const name = this.options.name ?? 'default';
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.catchUp();
        if (this.stopped) break;
        const cursor = (await this.options.repo.getCursor(name)) ?? '0-0';
        const events = await this.options.stream.wait(cursor, this.options.blockMs ?? 1_000, this.options.reader);
        if (events.length) await this.fold(events, name);
        failures = 0;
      } catch (err) {
        if (this.stopped) break;
        if (failures++ % 30 === 0) this.logger.warn({ err }, 'alert recorder: cannot fold the stream (retrying)');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }
}
