import type { DriftBaseline } from './drift-baseline.js';
import { labelShares } from './drift-baseline.js';
import type { DriftSample } from './drift-sample.js';
import { binShares, ks, psi } from './drift-stats.js';

export interface DriftThresholds {
  /** 'psi': PSI above psiThreshold; 'ks': KS p-value below ksPValue; 'both': either. */
  method: 'psi' | 'ks' | 'both';
  psiThreshold: number;
  ksPValue: number;
  /** The camera counts as drifted when at least this many features drifted. */
  minDriftedFeatures: number;
  /**
   * Whether the model's own outputs (score:<label>, confidence) can mark a camera as drifted. Off by
   * default: a camera that sees only birds for an hour shifts its scores without anything being wrong
   * with its images; the scores are still measured and reported.
   */
  includeScores: boolean;
  /**
   * Smallest shift of the mean, in baseline standard deviations, that can count as drift. Sky footage
   * has near-constant brightness per scene, so a re-encode moving every frame by one grey level is
   * "significant" to PSI and KS alike without mattering to the model; this keeps such shifts out.
   */
  minEffect: number;
}

export const isScoreFeature = (name: string): boolean => name === 'confidence' || name.startsWith('score:');

export interface FeatureDrift {
  name: string;
  psi: number;
  /**
   * PSI less what sampling noise alone gives on average, (bins - 1) * (1/n + 1/m): with a window of a
   * hundred crops and ten bins, identical distributions already score about 0.1. This is what the
   * threshold is compared with.
   */
  psiExcess: number;
  /** |current mean - baseline mean| / baseline standard deviation. */
  effect: number;
  ks: number;
  pValue: number;
  drifted: boolean;
  baselineMean: number;
  currentMean: number;
  /** Shares per baseline bin, for the report's histograms. */
  baselineShares: number[];
  currentShares: number[];
  edges: number[];
}

export interface DriftResult {
  count: number;
  drifted: boolean;
  driftedFeatures: string[];
  features: FeatureDrift[];
  predicted: { baseline: Record<string, number>; current: Record<string, number>; psi: number; drifted: boolean };
}

/** Compares a window of samples with the baseline, feature by feature. */
export function compareWithBaseline(baseline: DriftBaseline, samples: DriftSample[], t: DriftThresholds): DriftResult {
  const features: FeatureDrift[] = [];
  for (const [name, base] of Object.entries(baseline.features)) {
    const values = samples.map((s) => s.values[name]).filter((v): v is number => Number.isFinite(v));
    if (values.length === 0) continue;
    const shares = binShares(values, base.edges);
    const p = psi(base.shares, shares);
    const excess = p - (base.shares.length - 1) * (1 / values.length + 1 / baseline.count);
    const k = ks(base.quantiles, baseline.count, values);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const effect = Math.abs(mean - base.mean) / Math.max(base.std, 1e-9);
    const drifted = effect >= t.minEffect && ((t.method !== 'ks' && excess > t.psiThreshold) || (t.method !== 'psi' && k.pValue < t.ksPValue));
    features.push({ name, psi: round(p), psiExcess: round(excess), effect: round(Math.min(effect, 1e6)), ks: round(k.statistic), pValue: k.pValue, drifted, baselineMean: round(base.mean), currentMean: round(mean), baselineShares: base.shares.map(round), currentShares: shares.map(round), edges: base.edges.map(round) });
  }
  const labels = Object.keys(baseline.predicted);
  const current = labelShares(samples, labels);
  const predPsi = psi(labels.map((l) => baseline.predicted[l]), labels.map((l) => current[l] ?? 0));
  const driftedFeatures = features.filter((f) => f.drifted && (t.includeScores || !isScoreFeature(f.name))).map((f) => f.name);
  return {
    count: samples.length,
    drifted: driftedFeatures.length >= t.minDriftedFeatures,
    driftedFeatures,
    features,
    predicted: { baseline: baseline.predicted, current, psi: round(predPsi), drifted: predPsi > t.psiThreshold },
  };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
