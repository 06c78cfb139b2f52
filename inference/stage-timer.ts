/**
 * Where serving time goes, per stage of one prediction: image decode, preprocessing (resize and
 * normalise), waiting for a batch, the ONNX run, the alert rules and the snapshot. One timer per
 * process: the stages happen in different classes (predictor, batcher, worker) that should not each
 * carry a metrics object, and /metrics, the dashboard summary and `skywatch doctor --profile` read it.
 */
export const SERVING_STAGES = ['decode', 'preprocess', 'queue_wait', 'inference', 'alert_rules', 'snapshot'] as const;
export type ServingStage = (typeof SERVING_STAGES)[number];

export interface StageStats {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

type Listener = (stage: ServingStage, seconds: number) => void;

/** Keeps the last `window` samples per stage for percentiles, plus listeners (the Prometheus histogram). */
export class StageTimer {
  private readonly samples = new Map<ServingStage, { ms: Float64Array; next: number; count: number }>();
  private readonly listeners = new Set<Listener>();

  constructor(private readonly window = 2048) {}

  observe(stage: ServingStage, ms: number): void {
    let s = this.samples.get(stage);
    if (!s) {
      s = { ms: new Float64Array(this.window), next: 0, count: 0 };
      this.samples.set(stage, s);
    }
    s.ms[s.next] = ms;
    s.next = (s.next + 1) % this.window;
    s.count++;
    for (const l of this.listeners) l(stage, ms / 1000);
  }

  /** Times `fn` (sync or async) into `stage`; a failing `fn` is timed too. */
  async time<T>(stage: ServingStage, fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.observe(stage, performance.now() - t0);
    }
  }

  timeSync<T>(stage: ServingStage, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.observe(stage, performance.now() - t0);
    }
  }

  onObserve(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stats of the recent window per stage (stages never seen are left out). */
  stats(): Partial<Record<ServingStage, StageStats>> {
    const out: Partial<Record<ServingStage, StageStats>> = {};
    for (const stage of SERVING_STAGES) {
      const s = this.samples.get(stage);
      if (!s || s.count === 0) continue;
      const n = Math.min(s.count, this.window);
      const sorted = Array.from(s.ms.subarray(0, n)).sort((a, b) => a - b);
      const q = (p: number): number => sorted[Math.min(n - 1, Math.floor(p * n))];
      const r = (x: number): number => Math.round(x * 1000) / 1000;
      out[stage] = { count: s.count, meanMs: r(sorted.reduce((a, b) => a + b, 0) / n), p50Ms: r(q(0.5)), p95Ms: r(q(0.95)), maxMs: r(sorted[n - 1]) };
    }
    return out;
  }

  reset(): void {
    this.samples.clear();
  }
}

/** The process's timer. */
export const stageTimer = new StageTimer();
