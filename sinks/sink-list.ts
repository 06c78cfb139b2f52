import { silentLogger, type Logger } from '../core/logger.js';
import type { AlertSink, SinkEvent } from './alert-sink.js';

export interface SinkCounters {
  delivered: number;
  failed: number;
}

/**
 * Fans every event out to all sinks at once: a sink that throws or hangs never blocks or loses the
 * event for the others (each delivery has a time limit), and every sink has its own counters.
 */
export class SinkList implements AlertSink {
  readonly name = 'sinks';
  readonly counters: Record<string, SinkCounters> = {};

  constructor(readonly sinks: AlertSink[], private readonly logger: Logger = silentLogger, private readonly timeoutMs = 5_000) {
    for (const s of sinks) this.counters[s.name] = { delivered: 0, failed: 0 };
  }

  async deliver(event: SinkEvent): Promise<void> {
    await Promise.all(this.sinks.map((sink) => this.one(sink, event)));
  }

  private async one(sink: AlertSink, event: SinkEvent): Promise<void> {
    const counters = this.counters[sink.name];
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        sink.deliver(event),
        new Promise<never>((_r, reject) => {
          timer = setTimeout(() => reject(new Error(`sink ${sink.name} took over ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      counters.delivered++;
    } catch (err) {
      counters.failed++;
      this.logger.warn({ err, sink: sink.name, event: event.type }, `alert sink ${sink.name} failed`);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close().catch((err: unknown) => this.logger.warn({ err, sink: s.name }, 'closing an alert sink failed'))));
  }
}
