import { AsyncLocalStorage } from 'node:async_hooks';
import os from 'node:os';

/** The phases a training run spends its time in (profile.json keys). */
export const TRAIN_PHASES = ['scan', 'decode', 'embed', 'step', 'export', 'evaluate'] as const;
export type TrainPhase = (typeof TRAIN_PHASES)[number];

export interface PhaseTotal {
  /** Wall seconds spent inside the phase (nested phases are also counted in their parent). */
  seconds: number;
  /** How many timed spans made it up. */
  count: number;
}

export interface StepStats {
  profiled: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** The first N steps' times, in order (the first includes graph warm-up). */
  stepsMs: number[];
}

export interface TrainingProfile {
  version: 1;
  run: string;
  totalSeconds: number;
  phases: Record<string, PhaseTotal>;
  /** Share of the run's wall time per phase (0..1). */
  shares: Record<string, number>;
  steps: StepStats | null;
  machine: { cpus: number; loadAverage: number[] };
}

/**
 * Times the phases of one training run. The active profiler travels with the async context, so deep
 * parts (image decode inside the embedding loop) can time themselves with `timePhase` without a
 * profiler being passed down to them; outside a profiled run `timePhase` just runs the function.
 */
export class PhaseProfiler {
  private readonly totals = new Map<string, PhaseTotal>();
  private readonly steps: number[] = [];
  private lastStepAt: number | null = null;
  private readonly started = performance.now();

  constructor(readonly profileSteps: number) {}

  add(phase: string, seconds: number): void {
    const t = this.totals.get(phase) ?? { seconds: 0, count: 0 };
    t.seconds += seconds;
    t.count++;
    this.totals.set(phase, t);
  }

  /** Called once per training step (from the progress reporter): times the first `profileSteps` steps. */
  step(): void {
    const now = performance.now();
    if (this.lastStepAt !== null && this.steps.length < this.profileSteps) this.steps.push(now - this.lastStepAt);
    this.lastStepAt = now;
  }

  /** The step clock restarts at each epoch start, so validation and callbacks are not counted as a step. */
  epochStart(): void {
    this.lastStepAt = performance.now();
  }

  result(run: string): TrainingProfile {
    const total = (performance.now() - this.started) / 1000;
    const phases: Record<string, PhaseTotal> = {};
    const shares: Record<string, number> = {};
    for (const name of [...TRAIN_PHASES, ...[...this.totals.keys()].filter((k) => !(TRAIN_PHASES as readonly string[]).includes(k))]) {
      const t = this.totals.get(name) ?? { seconds: 0, count: 0 };
      phases[name] = { seconds: round(t.seconds), count: t.count };
      shares[name] = total > 0 ? round(t.seconds / total) : 0;
    }
    return { version: 1, run, totalSeconds: round(total), phases, shares, steps: stepStats(this.steps), machine: { cpus: os.cpus().length, loadAverage: os.loadavg().map(round) } };
  }
}

const storage = new AsyncLocalStorage<PhaseProfiler>();

export function withProfiler<T>(profiler: PhaseProfiler | undefined, fn: () => Promise<T>): Promise<T> {
  return profiler ? storage.run(profiler, fn) : fn();
}

/** Runs `fn`, adding its wall time to `phase` of the active profiler (if any). */
export async function timePhase<T>(phase: TrainPhase | string, fn: () => Promise<T> | T): Promise<T> {
  const profiler = storage.getStore();
  if (!profiler) return fn();
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    profiler.add(phase, (performance.now() - t0) / 1000);
  }
}

function stepStats(ms: number[]): StepStats | null {
  if (ms.length === 0) return null;
  const sorted = [...ms].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { profiled: ms.length, meanMs: round(ms.reduce((a, b) => a + b, 0) / ms.length), p50Ms: round(q(0.5)), p95Ms: round(q(0.95)), maxMs: round(sorted[sorted.length - 1]), stepsMs: ms.map(round) };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
