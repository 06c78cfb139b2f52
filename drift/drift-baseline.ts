import { z } from 'zod';
import type { DriftSample } from './drift-sample.js';
import { binShares, quantileEdges, quantiles } from './drift-stats.js';

/**
 * `models/<version>/drift-baseline.json`: what the model saw at training, per feature: quantile bin
 * edges with the baseline's share per bin (for PSI and the report's histograms), a quantile sketch
 * (for KS), and summary statistics; plus the mix of predicted labels.
 */
export const featureBaselineSchema = z.object({
  edges: z.array(z.number()),
  shares: z.array(z.number()),
  quantiles: z.array(z.number()),
  mean: z.number(),
  std: z.number(),
  min: z.number(),
  max: z.number(),
});

export const driftBaselineSchema = z.object({
  version: z.literal(1),
  model: z.string(),
  created: z.string(),
  /** Where the samples came from (e.g. "val+test splits of <data>"). */
  source: z.string(),
  count: z.number().int().positive(),
  labels: z.array(z.string()),
  features: z.record(z.string(), featureBaselineSchema),
  predicted: z.record(z.string(), z.number()),
});

export type FeatureBaseline = z.infer<typeof featureBaselineSchema>;
export type DriftBaseline = z.infer<typeof driftBaselineSchema>;

const BINS = 10;
const SKETCH = 200;

export function buildDriftBaseline(samples: DriftSample[], info: { model: string; source: string; labels: string[] }): DriftBaseline {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.values)))];
  const features: Record<string, FeatureBaseline> = {};
  for (const name of names) {
    const values = samples.map((s) => s.values[name]).filter((v): v is number => Number.isFinite(v));
    if (values.length === 0) continue;
    const sorted = [...values].sort((a, b) => a - b);
    const edges = quantileEdges(sorted, BINS);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    features[name] = { edges, shares: binShares(values, edges), quantiles: quantiles(sorted, SKETCH), mean, std, min: sorted[0], max: sorted[sorted.length - 1] };
  }
  return { version: 1, model: info.model, created: new Date().toISOString(), source: info.source, count: samples.length, labels: info.labels, features, predicted: labelShares(samples, info.labels) };
}

export function labelShares(samples: DriftSample[], labels: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
  for (const s of samples) out[s.predicted] = (out[s.predicted] ?? 0) + 1 / samples.length;
  return out;
}

export function parseDriftBaseline(raw: string | Buffer): DriftBaseline {
  return driftBaselineSchema.parse(JSON.parse(raw.toString()));
}
