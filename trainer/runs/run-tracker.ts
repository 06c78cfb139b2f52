import type { Logger } from '../../core/logger.js';
import type { EpochRecord } from '../fit/epoch-record.js';
import { codeVersion, machineInfo } from './machine-info.js';
import type { RunRecord } from './run-record.js';
import type { RunStore } from './run-store.js';

export interface RunStart {
  id: string;
  kind?: RunRecord['kind'];
  params: Record<string, unknown>;
  data: RunRecord['data'];
  backend?: string;
  sweep?: RunRecord['sweep'];
  tags?: Record<string, string>;
}

export interface RunEnd {
  metrics: Record<string, unknown>;
  modelVersion: string | null;
  published: RunRecord['published'];
  artifacts: RunRecord['artifacts'];
  profile?: Record<string, unknown> | null;
}

/**
 * Records one training run as it goes. Writes are queued one after another (a later epoch never lands
 * before an earlier one) and a failing write is logged, never thrown: tracking must not cost a run.
 */
export class RunTracker {
  private record: RunRecord | undefined;
  private writes: Promise<void> = Promise.resolve();
  private t0 = 0;

  constructor(private readonly runs: RunStore, private readonly logger: Logger) {}

  get id(): string | undefined {
    return this.record?.id;
  }

  start(start: RunStart): void {
    this.t0 = Date.now();
    this.record = {
      id: start.id,
      kind: start.kind ?? 'frame',
      status: 'running',
      started: new Date(this.t0).toISOString(),
      finished: null,
      durationSeconds: null,
      params: start.params,
      data: start.data,
      code: codeVersion(),
      machine: { ...machineInfo(), ...(start.backend ? { backend: start.backend } : {}) },
      epochs: [],
      metrics: null,
      artifacts: [],
      modelVersion: null,
      published: null,
      sweep: start.sweep ?? null,
      profile: null,
      error: null,
      tags: start.tags ?? {},
    };
    this.flush();
  }

  /** The data, once known, for a run started before it was read (a failing data set is still recorded). */
  data(data: RunRecord['data']): void {
    if (!this.record) return;
    this.record.data = data;
    this.flush();
  }

  /** One finished epoch; `part` names the model it trained when the run fits several. */
  epoch(e: EpochRecord, part?: string): void {
    if (!this.record) return;
    this.record.epochs.push({ ...(part ? { part } : {}), epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, ...(e.valLoss !== undefined ? { valLoss: e.valLoss } : {}), ...(e.valAccuracy !== undefined ? { valAccuracy: e.valAccuracy } : {}), learningRate: e.learningRate, seconds: e.seconds });
    this.flush();
  }

  async finish(end: RunEnd): Promise<void> {
    if (!this.record) return;
    Object.assign(this.record, { status: 'finished', finished: new Date().toISOString(), durationSeconds: (Date.now() - this.t0) / 1000, metrics: end.metrics, modelVersion: end.modelVersion, published: end.published, artifacts: end.artifacts, profile: end.profile ?? null });
    this.flush();
    await this.writes;
  }

  async fail(err: unknown): Promise<void> {
    if (!this.record) return;
    const e = err as { code?: string; message?: string };
    Object.assign(this.record, { status: 'failed', finished: new Date().toISOString(), durationSeconds: (Date.now() - this.t0) / 1000, error: { code: e.code ?? 'INTERNAL', message: e.message ?? String(err) } });
    this.flush();
    await this.writes;
  }

  /** Stores a file beside the run record (profile.json); its key, or null when the write failed. */
  async attach(name: string, data: string): Promise<string | null> {
    if (!this.record) return null;
    try {
      return await this.runs.saveFile(this.record.id, name, data);
    } catch (err) {
      this.logger.warn({ err, run: this.record.id, name }, 'could not store a run file');
      return null;
    }
  }

  private flush(): void {
    const snapshot = structuredClone(this.record!);
    this.writes = this.writes.then(() => this.runs.save(snapshot)).catch((err: unknown) => {
      this.logger.warn({ err, run: snapshot.id }, 'could not record the training run (training goes on)');
    });
  }
}
