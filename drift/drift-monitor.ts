import type { DriftBaseline } from './drift-baseline.js';
import { compareWithBaseline, type DriftResult, type DriftThresholds } from './drift-compare.js';
import { computeDriftSample, type CropPixels, type DriftSample, type SampleExtras } from './drift-sample.js';

export interface DriftMonitorOptions extends DriftThresholds {
  /** Samples kept per camera (the recent window compared with the baseline). */
  window: number;
  /** No verdict before a camera has this many samples. */
  minSamples: number;
  /** Re-compare a camera every this many new samples (comparison costs more than observing). */
  everySamples: number;
  /** After a drift event for a camera, no new one for this long (it stays drifted in /v1/drift). */
  eventCooldownMs: number;
  now?: () => number;
}

/** The `drift` alert-sink event (sinks/alert-sink.ts SinkEvent). */
export interface DriftEvent {
  type: 'drift';
  cameraId: string;
  /** PSI per feature that was compared. */
  features: Record<string, number>;
  drifted: string[];
  at: number;
}

export interface CameraDrift extends DriftResult {
  cameraId: string;
  checkedAt: number | null;
  model: string;
}

interface CameraWindow {
  samples: DriftSample[];
  next: number;
  sinceCheck: number;
  last: DriftResult | null;
  checkedAt: number | null;
  lastEventAt: number;
  wasDrifted: boolean;
}

/**
 * Per-camera drift: each camera's recent crops (a ring of `window` samples) are compared with the
 * served model's training baseline every `everySamples` observations. When a camera turns drifted
 * (or is still drifted after the cooldown) `onDrift` gets a `drift` event for the alert sinks.
 *
 * Wiring, where crops are scored: `drift.observeCrop(cameraId, crop, probabilities, labels, { objectSize })`.
 */
export class DriftMonitor {
  private baseline: DriftBaseline | null = null;
  private readonly cameras = new Map<string, CameraWindow>();
  private readonly listeners = new Set<(event: DriftEvent) => void | Promise<void>>();
  /** Seconds spent computing samples and comparisons (for the benchmark and the summary). */
  readonly cost = { sampleSeconds: 0, samples: 0, compareSeconds: 0, compares: 0 };

  constructor(readonly options: DriftMonitorOptions) {}

  /** The baseline of the model now served; a new model starts every camera's window afresh. */
  setBaseline(baseline: DriftBaseline | null): void {
    if (baseline?.model !== this.baseline?.model) this.cameras.clear();
    this.baseline = baseline;
  }

  get model(): string | null {
    return this.baseline?.model ?? null;
  }

  onDrift(listener: (event: DriftEvent) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Computes the sample of one scored crop and observes it. No-op without a baseline. */
  observeCrop(cameraId: string, crop: CropPixels, probabilities: ArrayLike<number>, labels: string[], extras: SampleExtras = {}): void {
    if (!this.baseline) return;
    const t0 = performance.now();
    const sample = computeDriftSample(crop, probabilities, labels, extras);
    this.cost.sampleSeconds += (performance.now() - t0) / 1000;
    this.cost.samples++;
    this.observe(cameraId, sample);
  }

  observe(cameraId: string, sample: DriftSample): void {
    if (!this.baseline) return;
    let w = this.cameras.get(cameraId);
    if (!w) {
      w = { samples: [], next: 0, sinceCheck: 0, last: null, checkedAt: null, lastEventAt: -Infinity, wasDrifted: false };
      this.cameras.set(cameraId, w);
    }
    if (w.samples.length < this.options.window) w.samples.push(sample);
    else w.samples[w.next] = sample;
    w.next = (w.next + 1) % this.options.window;
    w.sinceCheck++;
    if (w.samples.length >= this.options.minSamples && w.sinceCheck >= this.options.everySamples) this.check(cameraId, w);
  }

  private check(cameraId: string, w: CameraWindow): void {
    const t0 = performance.now();
    const result = compareWithBaseline(this.baseline!, w.samples, this.options);
    this.cost.compareSeconds += (performance.now() - t0) / 1000;
    this.cost.compares++;
    const now = this.options.now?.() ?? Date.now();
    w.last = result;
    w.checkedAt = now;
    w.sinceCheck = 0;
    const turned = result.drifted && !w.wasDrifted;
    const reminder = result.drifted && now - w.lastEventAt >= this.options.eventCooldownMs;
    w.wasDrifted = result.drifted;
    if (turned || reminder) {
      w.lastEventAt = now;
      const event: DriftEvent = { type: 'drift', cameraId, features: Object.fromEntries(result.features.map((f) => [f.name, f.psi])), drifted: result.driftedFeatures, at: now };
      for (const l of this.listeners) void Promise.resolve(l(event)).catch(() => undefined);
    }
  }

  /** The latest comparison of each camera (cameras below minSamples have none yet). */
  report(cameraId?: string): { model: string | null; cameras: CameraDrift[]; pending: Array<{ cameraId: string; samples: number }> } {
    const cameras: CameraDrift[] = [];
    const pending: Array<{ cameraId: string; samples: number }> = [];
    for (const [id, w] of this.cameras) {
      if (cameraId && id !== cameraId) continue;
      if (w.last) cameras.push({ cameraId: id, checkedAt: w.checkedAt, model: this.baseline?.model ?? '', ...w.last });
      else pending.push({ cameraId: id, samples: w.samples.length });
    }
    return { model: this.model, cameras, pending };
  }

  /** Compares a camera's window now, whatever everySamples says (the report route and tests use it). */
  checkNow(cameraId: string): CameraDrift | null {
    const w = this.cameras.get(cameraId);
    if (!w || !this.baseline || w.samples.length === 0) return null;
    this.check(cameraId, w);
    return { cameraId, checkedAt: w.checkedAt, model: this.baseline.model, ...w.last! };
  }

  get currentBaseline(): DriftBaseline | null {
    return this.baseline;
  }
}
