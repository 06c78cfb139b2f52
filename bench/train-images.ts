/**
 * Accuracy and time target for training (issue 2): train on ../shared/data/images/train (its own
 * validation split carved from it, flipped copies kept with their original), evaluate the exported
 * ONNX model on images/valid. Targets: accuracy >= 0.97, end to end <= 15 minutes on the 2-core
 * machine, model.onnx <= 20 MB.
 *
 *   npm run bench:train [-- --mode transfer|scratch --epochs N --seed N]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../core/logger.js';
import { sha256 } from '../core/hash.js';
import { createProgress } from '../trainer/fit/progress.js';
import { createRng } from '../trainer/tfjs/seeded-random.js';
import { runTraining, type TrainMode } from '../trainer/train.js';
import { evaluateDetailed } from '../trainer/eval/evaluate.js';
import { readLocalModel } from '../core/model/registry.js';
import type { SplitFile, Splits } from '../trainer/training-splits.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'transfer' },
    epochs: { type: 'string' },
    seed: { type: 'string', default: '1' },
    data: { type: 'string', default: '../shared/data/images' },
    // A persistent embedding cache makes repeated runs skip the backbone (not the measured setting).
    cache: { type: 'string' },
    // Test-time flip averaging in the exported transfer model (default: training's default).
    tta: { type: 'string' },
  },
});
const root = path.resolve(values.data ?? '../shared/data/images');
if (!existsSync(path.join(root, 'train')) || !existsSync(path.join(root, 'valid'))) {
  console.error(`bench:train needs ${root}/{train,valid}/<label>/ (see ../shared/data/README.md); not found, nothing measured`);
  process.exit(0);
}

async function list(dir: string): Promise<SplitFile[]> {
  const out: SplitFile[] = [];
  for (const label of (await readdir(dir)).sort()) {
    for (const name of (await readdir(path.join(dir, label))).sort()) out.push({ path: path.join(dir, label, name), label });
  }
  return out;
}

// The export holds horizontally flipped copies named <photo>_jpg.rf.<hash>.jpg: a photo and its copy
// must land on the same side of the train/val cut, or validation flatters the model.
const photoOf = (file: string): string => path.basename(file).split('_jpg.rf.')[0];
const seed = Number(values.seed);
const all = await list(path.join(root, 'train'));
const photos = createRng(seed).shuffle([...new Set(all.map((f) => photoOf(f.path)))]);
const valPhotos = new Set(photos.slice(0, Math.round(photos.length * 0.15)));
const test = await list(path.join(root, 'valid'));
const splits: Splits = {
  labels: [...new Set(all.map((f) => f.label))].sort(),
  train: all.filter((f) => !valPhotos.has(photoOf(f.path))),
  val: all.filter((f) => valPhotos.has(photoOf(f.path))),
  test,
  generated: false,
  fingerprint: sha256([...all, ...test].map((f) => `${path.relative(root, f.path)}`).join('\n')),
};

const stateDir = await mkdtemp(path.join(os.tmpdir(), 'skywatch-bench-train-'));
const started = Date.now();
const load = os.loadavg()[0];
try {
  const result = await runTraining({
    data: root,
    splits,
    stateDir,
    cacheDir: values.cache ? path.resolve(values.cache) : path.join(stateDir, 'cache'),
    mode: values.mode as TrainMode,
    backbone: path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx'),
    seed,
    ...(values.tta ? { tta: values.tta as 'none' | 'hflip' } : {}),
    ...(values.epochs ? { epochs: Number(values.epochs) } : {}),
    logger: createLogger({ level: 'info', destination: process.stderr }),
    progress: createProgress(process.stderr),
  });
  const seconds = (Date.now() - started) / 1000;
  const size = (await stat(path.join(result.runDir, 'model.onnx'))).size;
  const t = result.training;
  console.log(`\nbench:train ${values.mode}, seed ${seed}, tta ${String(t.tta ?? 'none')}, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load average ${load.toFixed(2)} at start / ${os.loadavg()[0].toFixed(2)} at end, backend ${String(t.backend)}`);
  console.log(`train ${splits.train.length} / val ${splits.val.length} (from images/train) / test ${test.length} (images/valid)`);
  console.log('| mode | test accuracy | macro F1 | end to end | model.onnx | epochs (best) |');
  console.log('|---|---|---|---|---|---|');
  console.log(`| ${values.mode} | ${result.metrics.accuracy.toFixed(4)} (target >= 0.97) | ${result.metrics.macroF1.toFixed(4)} | ${(seconds / 60).toFixed(1)} min (target <= 15) | ${(size / 1e6).toFixed(2)} MB (target <= 20) | ${String(t.epochsRun)} (${String(t.bestEpoch)}) |`);
  console.log(`confusion (rows true ${splits.labels.join('/')}): ${JSON.stringify(result.metrics.confusion)}`);
  // The misclassified test photos, to look at (issue 11: find where the errors are).
  const local = await readLocalModel(path.join(result.runDir, 'model.onnx'));
  const detail = await evaluateDetailed({ modelPath: local.modelPath, input: local.manifest.input, outputName: local.manifest.output.name, labels: local.manifest.labels, files: test });
  for (const p of detail.predictions.filter((x) => x.predicted !== x.label)) console.log(`error: ${path.relative(root, p.path)} true ${p.label} predicted ${p.predicted} ${p.confidence.toFixed(3)}`);
} finally {
  await rm(stateDir, { recursive: true, force: true });
}
