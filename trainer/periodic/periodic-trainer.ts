import type { Logger } from '../../core/logger.js';
import type { Schedule } from './schedule.js';

export type RunDecision = 'skipped' | 'promoted' | 'candidate' | 'failed' | 'aborted';

export interface TrainerRunRecord {
  startedAt: string;
  finishedAt: string;
  dataFingerprint: string | null;
  decision: RunDecision;
  reason: string;
  version?: string;
  accuracy?: number;
}

export interface TrainOutcome {
  version: string;
  promoted: boolean;
  reason: string;
  accuracy?: number;
}

/** What the periodic trainer needs from the world; `trainer-world.ts` gives the real ones. */
export interface PeriodicTrainerDeps {
  /** Fingerprint of the data set as it is now (pulls it from storage first). */
  dataFingerprint(signal: AbortSignal): Promise<string>;
  /** Fingerprints already trained on: the latest model's and the most recent recorded run's. */
  knownFingerprints(): Promise<string[]>;
  /** Trains, evaluates and publishes through the champion/challenger gate. */
  train(signal: AbortSignal): Promise<TrainOutcome>;
  record(run: TrainerRunRecord): Promise<void>;
  logger: Logger;
  now?: () => Date;
}

/**
 * Retrains on a schedule, but only when the data changed: every run (skipped or not) is logged and
 * recorded with its fingerprint, metrics and decision, so an operator can see why a model is (not) new.
 */
export class PeriodicTrainer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<TrainerRunRecord> | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly schedule: Schedule, private readonly deps: PeriodicTrainerDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** One run now. Never throws: failures are recorded as such. */
  async runOnce(): Promise<TrainerRunRecord> {
    if (this.running) return this.running;
    this.running = this.execute().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async execute(): Promise<TrainerRunRecord> {
    const { logger } = this.deps;
    const startedAt = this.now().toISOString();
    let fingerprint: string | null = null;
    let record: TrainerRunRecord;
    try {
      fingerprint = await this.deps.dataFingerprint(this.abort.signal);
      const known = await this.deps.knownFingerprints();
      if (known.includes(fingerprint)) {
        record = { startedAt, finishedAt: this.now().toISOString(), dataFingerprint: fingerprint, decision: 'skipped', reason: 'data set unchanged since the last trained model' };
      } else {
        logger.info({ fingerprint }, 'periodic trainer: data changed, training');
        const outcome = await this.deps.train(this.abort.signal);
        record = {
          startedAt,
          finishedAt: this.now().toISOString(),
          dataFingerprint: fingerprint,
          decision: outcome.promoted ? 'promoted' : 'candidate',
          reason: outcome.reason,
          version: outcome.version,
          accuracy: outcome.accuracy,
        };
      }
    } catch (err) {
      const aborted = this.abort.signal.aborted;
      record = { startedAt, finishedAt: this.now().toISOString(), dataFingerprint: fingerprint, decision: aborted ? 'aborted' : 'failed', reason: (err as Error).message };
      if (!aborted) logger.error({ err }, 'periodic trainer: run failed');
    }
    logger.info(record, `periodic trainer: ${record.decision}`);
    try {
      await this.deps.record(record);
    } catch (err) {
      logger.error({ err }, 'periodic trainer: could not record the run');
    }
    return record;
  }

  /** Runs now if `immediately`, then at every scheduled time until stop(). */
  start(immediately = true): void {
    const plan = (): void => {
      if (this.abort.signal.aborted) return;
      const next = this.schedule.next(this.now());
      const delay = Math.max(0, next.getTime() - this.now().getTime());
      this.deps.logger.info({ next: next.toISOString(), schedule: this.schedule.spec }, 'periodic trainer: next run');
      // setTimeout caps at ~24.8 days; re-plan in steps for longer schedules.
      this.timer = setTimeout(() => {
        if (next.getTime() > this.now().getTime() + 1_000) return plan();
        void this.runOnce().then(plan);
      }, Math.min(delay, 2 ** 31 - 1));
    };
    if (immediately) void this.runOnce().then(plan);
    else plan();
  }

  /** Stops scheduling and interrupts a run in progress (nothing is half-published). */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await this.running;
  }
}
