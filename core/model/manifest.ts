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

/**
 * The track model beside a crop classifier: it takes the features named here (tracking/track-features.ts,
 * in this order) and gives a verdict over `labels`. The alert policy it was validated with travels with it.
 */
export const trackModelSchema = z.object({
  file: z.literal('track.onnx'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  inputName: z.string().min(1),
  outputName: z.string().min(1),
  features: z.array(z.string().min(1)).min(1).max(512),
  labels: z.array(z.string().min(1)).min(2),
  /** Frames per second the tracks it learnt from were sampled at (motion features depend on it). */
  fps: z.number().positive(),
  policy: z.object({
    threshold: z.number().gt(0).max(1),
    minCrops: z.number().int().min(1).max(100),
    alertLabels: z.array(z.string().min(1)).min(1),
    /** Weight of the track model against the mean of the crops' probabilities (1: the track model alone). */
    blend: z.number().min(0).max(1).default(1),
  }),
});

/** The photo model's gate column: P(the input is a photograph, not a camera crop). */
export const PHOTO_GATE_COLUMN = 'photograph' as const;

/**
 * A whole-photograph classifier beside a track model's crop classifier: the backbone with heads trained
 * on photographs alone (averaged inside the graph), which single-image predictions use when present.
 * Camera crops keep the crop classifier: the photo model never saw a clip (docs/BENCHMARKS.md, issue 11).
 */
export const photoModelSchema = z.object({
  file: z.literal('photo.onnx'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  input: modelInputSchema,
  outputName: z.string().min(1),
  labels: z.array(z.string().min(1)).min(2),
  /** Heads averaged in the graph (an ensemble of seeds). */
  heads: z.number().int().min(1).max(64),
  /**
   * The gate: one more output column after `labels`, named `column`, with the probability that the
   * input is a photograph rather than a camera crop; the answer leans on the photo model that much
   * (inference/photo-answer.ts). Absent in versions published before it: the plain combination.
   */
  gate: z.object({ column: z.literal(PHOTO_GATE_COLUMN), keepCropAbove: z.number().min(0).max(1) }).optional(),
});

export const manifestSchema = z.object({
  version: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/),
  created: z.string(),
  labels: z.array(z.string().min(1)).min(2),
  /** `frame`: one classifier for images and crops. `track`: a crop classifier plus a track model (`track`). */
  kind: z.enum(['frame', 'track']).default('frame'),
  input: modelInputSchema,
  /**
   * `probabilities`: one per label, summing to 1. `probabilities-and-gate`: the last label's column is
   * a gate in [0, 1] (the photo model's P(photograph)) and the others are the probabilities.
   */
  output: z.object({ name: z.string().min(1), kind: z.enum(['probabilities', 'probabilities-and-gate']).default('probabilities') }),
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
  track: trackModelSchema.optional(),
  photo: photoModelSchema.optional(),
}).refine((m) => (m.kind === 'track') === (m.track !== undefined), { message: 'a manifest of kind track (and only one) describes its track model', path: ['track'] })
  // Only a photo model carries a gate (its own manifest is derived by photoManifest); the served model gives probabilities.
  .refine((m) => m.output.kind === 'probabilities', { message: 'the model\'s output must be probabilities (a gate belongs to a photo model)', path: ['output', 'kind'] });

export type ModelInput = z.infer<typeof modelInputSchema>;
export type EvalMetrics = z.infer<typeof evalMetricsSchema>;
export type LabelMetrics = z.infer<typeof labelMetricsSchema>;
export type ModelManifest = z.infer<typeof manifestSchema>;
export type TrackModelSpec = z.infer<typeof trackModelSchema>;
export type PhotoModelSpec = z.infer<typeof photoModelSchema>;
export type PhotoGate = NonNullable<PhotoModelSpec['gate']>;

/**
 * The photo model as a manifest of its own (its labels, input, output and checksum; no track model),
 * so everything that loads and runs a model (ONNX sessions, the micro-batcher) takes it unchanged. A
 * gate's column counts as one more label there: its output has that many columns.
 */
/** Two models take the same input tensor (one backbone): a photograph's tensor serves both. */
export function sameModelInput(a: ModelInput, b: ModelInput): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function photoManifest(manifest: ModelManifest): ModelManifest | null {
  const { photo } = manifest;
  if (!photo) return null;
  const { track: _track, photo: _photo, ...rest } = manifest;
  return { ...rest, kind: 'frame', labels: photo.gate ? [...photo.labels, photo.gate.column] : photo.labels, input: photo.input, output: { name: photo.outputName, kind: photo.gate ? 'probabilities-and-gate' : 'probabilities' }, sha256: photo.sha256 };
}

/** `latest.json` at the registry root: the version the workers serve. */
export const latestSchema = z.object({
  version: manifestSchema.shape.version,
  sha256: manifestSchema.shape.sha256,
  updated: z.string(),
  previous: z.array(z.string()).default([]),
});
export type LatestPointer = z.infer<typeof latestSchema>;
