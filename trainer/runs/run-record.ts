import { z } from 'zod';

/**
 * `runs/<id>/run.json` in the registry's store: one training run as an experiment tracker keeps it
 * (parameters, data fingerprint, code version, metrics per epoch, final metrics, artifacts, duration,
 * machine). Written when the run starts, after every epoch and at the end, so a run that dies still
 * leaves its curves behind with status "running" or "failed".
 */
export const epochPointSchema = z.object({
  /**
   * Which model the epoch trained, when a run fits several (a track run: `crop fold 1/3`..., `track`,
   * `crop`); absent for the frame model, the only one of its run.
   */
  part: z.string().optional(),
  epoch: z.number().int(),
  loss: z.number(),
  accuracy: z.number(),
  valLoss: z.number().optional(),
  valAccuracy: z.number().optional(),
  learningRate: z.number().optional(),
  seconds: z.number().optional(),
});

export const runRecordSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/),
  /** What was trained: a frame classifier (`skywatch train`) or a crop + track model (`--kind track`); runs recorded before kinds existed were frame runs. */
  kind: z.enum(['frame', 'track']).default('frame'),
  status: z.enum(['running', 'finished', 'failed']),
  started: z.string(),
  finished: z.string().nullable().default(null),
  durationSeconds: z.number().nullable().default(null),
  /** Training settings after defaults (mode, epochs, batch size, learning rate, seed, ...). */
  params: z.record(z.string(), z.unknown()),
  data: z.object({ source: z.string(), fingerprint: z.string().nullable(), counts: z.record(z.string(), z.record(z.string(), z.number())).optional() }),
  code: z.object({ version: z.string(), commit: z.string().nullable(), dirty: z.boolean().nullable() }),
  machine: z.object({ hostname: z.string(), platform: z.string(), arch: z.string(), cpus: z.number(), cpuModel: z.string(), memoryGb: z.number(), node: z.string(), loadAverage: z.array(z.number()), backend: z.string().optional() }),
  epochs: z.array(epochPointSchema).default([]),
  /**
   * Final test metrics (accuracy, macroF1, per label...). Track runs: accuracy is per track (the held-out
   * clips' main objects), and `clipRecall` / `clipFalseAlarm` give per label the share of held-out clips
   * with a drone alert (recall for the alert labels, false alarms for the others).
   */
  metrics: z.record(z.string(), z.unknown()).nullable().default(null),
  artifacts: z.array(z.object({ name: z.string(), where: z.string(), sizeBytes: z.number().optional() })).default([]),
  modelVersion: z.string().nullable().default(null),
  published: z.object({ promoted: z.boolean(), reason: z.string() }).nullable().default(null),
  sweep: z.object({ id: z.string(), trial: z.number().int() }).nullable().default(null),
  profile: z.record(z.string(), z.unknown()).nullable().default(null),
  error: z.object({ code: z.string(), message: z.string() }).nullable().default(null),
  tags: z.record(z.string(), z.string()).default({}),
});

export type RunRecord = z.infer<typeof runRecordSchema>;
export type EpochPoint = z.infer<typeof epochPointSchema>;

/** An epoch's series: the part it trained, `model` for a run's only model. */
export function epochPart(e: EpochPoint): string {
  return e.part ?? 'model';
}

/** Epochs per part, in the order the parts were trained. */
export function epochsByPart(record: Pick<RunRecord, 'epochs'>): Map<string, EpochPoint[]> {
  const out = new Map<string, EpochPoint[]>();
  for (const e of record.epochs) out.set(epochPart(e), [...(out.get(epochPart(e)) ?? []), e]);
  return out;
}
