import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SkywatchError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { parseManifest, ModelRegistry, type PublishDecision } from '../../core/model/registry.js';
import { openStore } from '../../core/storage/open-store.js';
import { openRunStore } from '../runs/open-run-store.js';
import { runTraining, type TrainOptions, type TrainResult } from '../train.js';
import { expandTrials, type SweepSpec, type TrialParams } from './sweep-spec.js';

export interface TrialResult {
  trial: number;
  params: TrialParams;
  run: string | null;
  valLoss: number | null;
  testAccuracy: number | null;
  seconds: number;
  error?: { code: string; message: string };
}

export interface SweepResult {
  id: string;
  method: SweepSpec['method'];
  metric: SweepSpec['metric'];
  trials: TrialResult[];
  best: TrialResult | null;
  decision?: PublishDecision;
  seconds: number;
}

function trialOptions(params: TrialParams): Partial<TrainOptions> {
  const out: Partial<TrainOptions> = {};
  const num = (name: string, v: unknown, integer: boolean): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new SkywatchError('BAD_REQUEST', `sweep parameter ${name}: ${JSON.stringify(v)} is not a positive ${integer ? 'integer' : 'number'}`);
    return v;
  };
  for (const [name, v] of Object.entries(params)) {
    if (name === 'learningRate') out.learningRate = num(name, v, false);
    else if (name === 'batchSize') out.batchSize = num(name, v, true);
    else if (name === 'epochs') out.epochs = num(name, v, true);
    else if (name === 'patience') out.patience = v === 0 ? 0 : num(name, v, true);
    else if (name === 'seed') out.seed = v === 0 ? 0 : num(name, v, true);
    else if (name === 'imageSize') out.imageSize = num(name, v, true);
    else if (name === 'augment') {
      if (typeof v !== 'boolean') throw new SkywatchError('BAD_REQUEST', `sweep parameter augment: ${JSON.stringify(v)} is not true or false`);
      out.augment = v;
    } else if (name === 'tta') {
      if (v !== 'none' && v !== 'hflip') throw new SkywatchError('BAD_REQUEST', `sweep parameter tta: ${JSON.stringify(v)} is not "none" or "hflip"`);
      out.tta = v;
    }
  }
  return out;
}

/**
 * Grid or random search: one full training run per trial (each recorded in the run store with the
 * sweep's id and its trial number, none published), the best chosen by the spec's metric, and only
 * the best published, through the registry's champion/challenger like any other model. A failing
 * trial is recorded and the sweep goes on; an interrupted one (Ctrl-C) stops the sweep.
 */
export async function runSweep(spec: SweepSpec, base: TrainOptions, options: { onTrial?: (t: TrialResult, total: number) => void } = {}): Promise<SweepResult> {
  const logger = base.logger ?? silentLogger;
  const trials = expandTrials(spec);
  for (const t of trials) trialOptions(t);
  const id = `sweep-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${Math.random().toString(16).slice(2, 6)}`;
  const started = performance.now();
  const results: TrialResult[] = [];
  logger.info({ sweep: id, trials: trials.length, method: spec.method, metric: spec.metric }, `sweep ${id}: ${trials.length} trials (${spec.method})`);
  for (const [i, params] of trials.entries()) {
    const t0 = performance.now();
    let result: TrialResult;
    try {
      const r: TrainResult = await runTraining({ ...base, ...trialOptions(params), publish: false, tracking: { sweep: { id, trial: i + 1 }, tags: { sweep: id } } });
      const bestLoss = r.training.bestLoss;
      result = { trial: i + 1, params, run: r.version, valLoss: typeof bestLoss === 'number' && Number.isFinite(bestLoss) ? bestLoss : null, testAccuracy: r.metrics.accuracy, seconds: (performance.now() - t0) / 1000 };
    } catch (err) {
      if ((err as SkywatchError).code === 'TRAINING_ABORTED') throw err;
      const e = err as { code?: string; message?: string };
      result = { trial: i + 1, params, run: null, valLoss: null, testAccuracy: null, seconds: (performance.now() - t0) / 1000, error: { code: e.code ?? 'INTERNAL', message: e.message ?? String(err) } };
      logger.warn({ sweep: id, trial: i + 1, err }, `sweep trial ${i + 1} failed; going on`);
    }
    results.push(result);
    options.onTrial?.(result, trials.length);
  }
  const ranked = results.filter((r) => r.run && (spec.metric === 'valLoss' ? r.valLoss !== null : r.testAccuracy !== null))
    .sort((a, b) => (spec.metric === 'valLoss' ? a.valLoss! - b.valLoss! : b.testAccuracy! - a.testAccuracy!) || a.trial - b.trial);
  const best = ranked[0] ?? null;
  const out: SweepResult = { id, method: spec.method, metric: spec.metric, trials: results, best, seconds: 0 };
  if (best && base.publish) out.decision = await publishRun(base, best.run!);
  out.seconds = (performance.now() - started) / 1000;
  const runs = await openRunStore(base.registry, base.stateDir, base.gcs);
  await runs.saveFile(id, 'sweep.json', `${JSON.stringify({ ...out, spec }, null, 2)}\n`).catch((err: unknown) => logger.warn({ err }, 'could not store the sweep summary'));
  return out;
}

/** Publishes a finished run folder (<stateDir>/runs/<version>/) through champion/challenger. */
async function publishRun(base: TrainOptions, version: string): Promise<PublishDecision> {
  if (!base.registry) throw new SkywatchError('BAD_REQUEST', 'publishing needs a registry (--registry)');
  const dir = path.join(path.resolve(base.stateDir), 'runs', version);
  const manifest = parseManifest(await readFile(path.join(dir, 'manifest.json')), dir);
  const extra: Record<string, string> = {};
  for (const name of ['metrics.jsonl', 'drift-baseline.json']) {
    const content = await readFile(path.join(dir, name), 'utf8').catch(() => null);
    if (content !== null) extra[name] = content;
  }
  const registry = new ModelRegistry(await openStore(base.registry, { gcsApiEndpoint: base.gcs?.apiEndpoint, gcsProjectId: base.gcs?.projectId }));
  return registry.publish({
    version,
    modelPath: path.join(dir, 'model.onnx'),
    manifest,
    reportHtml: await readFile(path.join(dir, 'report.html'), 'utf8'),
    promote: base.force ? 'force' : 'auto',
    ...(base.margin !== undefined ? { margin: base.margin } : {}),
    files: extra,
  });
}
