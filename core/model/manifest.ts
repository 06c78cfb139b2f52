import { z } from 'zod';

/**
 * `manifest.json` beside every `model.onnx`: everything a worker needs to feed the model and
 * everything an operator needs to trust it. Validated whenever one is read (model files are untrusted).
 */
export const modelInputSchema = z.object({
  name: z.string().min(1).default('input'),
  layout: z.literal('NCHW'),
  height: z.number().int().min(8).max(4096),
  width: z.number().int().min(8).max(4096),
  channelOrder: z.enum(['RGB', 'BGR']),
  /** Applied to pixel values in 0..255: (v - mean[c]) / std[c], per channel in channelOrder. */
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
});

export const labelMetricsSchema = z.object({
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  support: z.number().int(),
});

export const evalMetricsSchema = z.object({
  accuracy: z.number().min(0).max(1),
  perLabel: z.record(z.string(), labelMetricsSchema),
  macroF1: z.number(),
  /** confusion[i][j]: true label i predicted as j, in `labels` order. */
  confusion: z.array(z.array(z.number().int())),
  /** One-vs-rest ROC AUC per label. */
  rocAuc: z.record(z.string(), z.number()),
  count: z.number().int(),
  /** Hash of the evaluated file list, so champion and challenger are compared on the same split. */
  splitFingerprint: z.string().optional(),
});

export const manifestSchema = z.object({
  version: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/),
  created: z.string(),
  labels: z.array(z.string().min(1)).min(2),
  kind: z.enum(['frame', 'clip']).default('frame'),
  clipLength: z.number().int().positive().optional(),
  input: modelInputSchema,
  output: z.object({ name: z.string().min(1), kind: z.enum(['probabilities']).default('probabilities') }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().positive().optional(),
  metrics: evalMetricsSchema.optional(),
  dataset: z.object({
    fingerprint: z.string(),
    counts: z.record(z.string(), z.record(z.string(), z.number().int())),
    source: z.string().optional(),
  }).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
  parent: z.string().nullable().default(null),
});

export type ModelInput = z.infer<typeof modelInputSchema>;
export type EvalMetrics = z.infer<typeof evalMetricsSchema>;
export type LabelMetrics = z.infer<typeof labelMetricsSchema>;
export type ModelManifest = z.infer<typeof manifestSchema>;

/** `latest.json` at the registry root: the version the workers serve. */
export const latestSchema = z.object({
  version: manifestSchema.shape.version,
  sha256: manifestSchema.shape.sha256,
  updated: z.string(),
  previous: z.array(z.string()).default([]),
});
export type LatestPointer = z.infer<typeof latestSchema>;
