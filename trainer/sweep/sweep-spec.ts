import { z } from 'zod';
import { SkywatchError } from '../../core/errors.js';
import { createRng } from '../tfjs/seeded-random.js';

/**
 * A sweep file (JSON): which training settings to vary and how.
 *   { "method": "grid", "parameters": { "learningRate": [0.001, 0.003], "batchSize": [16, 32] } }
 *   { "method": "random", "trials": 6, "seed": 1, "parameters": { "learningRate": { "min": 1e-4, "max": 1e-2, "log": true }, "patience": [5, 10] } }
 * Trials are ranked by the validation loss of their best epoch (what early stopping kept), not by the
 * test split, which must stay untouched by model selection; `metric: "testAccuracy"` is allowed but
 * then the test accuracy of the winner flatters it.
 */
const range = z.object({ min: z.number(), max: z.number(), log: z.boolean().default(false), integer: z.boolean().default(false) }).refine((r) => r.max >= r.min, 'max must be >= min').refine((r) => !r.log || r.min > 0, 'a log range needs min > 0');
const values = z.array(z.union([z.number(), z.boolean(), z.string()])).min(1).max(100);

/** The training settings a sweep may vary (the names of `skywatch train` options). */
export const SWEEPABLE = ['learningRate', 'batchSize', 'epochs', 'patience', 'seed', 'augment', 'imageSize', 'tta'] as const;
export type SweepParam = (typeof SWEEPABLE)[number];

export const sweepSpecSchema = z.object({
  method: z.enum(['grid', 'random']),
  trials: z.number().int().min(1).max(500).optional(),
  seed: z.number().int().default(1),
  metric: z.enum(['valLoss', 'testAccuracy']).default('valLoss'),
  parameters: z.partialRecord(z.enum(SWEEPABLE), z.union([values, range])).refine((p) => Object.keys(p).length > 0, 'at least one parameter'),
}).strict();

export type SweepSpec = z.infer<typeof sweepSpecSchema>;
export type TrialParams = Partial<Record<SweepParam, number | boolean | string>>;

export function parseSweepSpec(text: string, where: string): SweepSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SkywatchError('BAD_REQUEST', `${where} is not JSON: ${(err as Error).message}`);
  }
  const parsed = sweepSpecSchema.safeParse(json);
  if (!parsed.success) throw new SkywatchError('BAD_REQUEST', `${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const spec = parsed.data;
  if (spec.method === 'grid' && Object.values(spec.parameters).some((p) => !Array.isArray(p))) throw new SkywatchError('BAD_REQUEST', `${where}: a grid sweep needs a list of values for every parameter (ranges are for random search)`);
  if (spec.method === 'random' && !spec.trials) throw new SkywatchError('BAD_REQUEST', `${where}: a random sweep needs "trials"`);
  return spec;
}

/** Every trial's settings: the grid's cartesian product, or `trials` draws from the seed. */
export function expandTrials(spec: SweepSpec): TrialParams[] {
  const entries = Object.entries(spec.parameters) as Array<[SweepParam, z.infer<typeof values> | z.infer<typeof range>]>;
  if (spec.method === 'grid') {
    let trials: TrialParams[] = [{}];
    for (const [name, list] of entries) trials = trials.flatMap((t) => (list as Array<number | boolean | string>).map((v) => ({ ...t, [name]: v })));
    if (trials.length > 500) throw new SkywatchError('BAD_REQUEST', `the grid has ${trials.length} trials; at most 500`);
    return trials;
  }
  const rng = createRng(spec.seed);
  return Array.from({ length: spec.trials! }, () => Object.fromEntries(entries.map(([name, p]) => {
    if (Array.isArray(p)) return [name, p[Math.floor(rng.next() * p.length) % p.length]];
    const u = rng.next();
    let v = p.log ? Math.exp(Math.log(p.min) + u * (Math.log(p.max) - Math.log(p.min))) : p.min + u * (p.max - p.min);
    if (p.integer) v = Math.round(v);
    return [name, v];
  })) as TrialParams);
}
