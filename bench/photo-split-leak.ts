/**
 * What flipped copies did to the photo model's test split (issue 9): the shared `images/train` holds
 * each photograph twice (original + horizontally flipped copy). The photo model (`skywatch train --data
 * ../shared/data/images`) carves its train/val/test splits from that folder; split file by file, most
 * test photos had their mirror image in training, so the reported test accuracy flattered the model.
 * Here the same training (transfer mode, same seed) runs on splits made file by file (before) and by
 * mirror group (after, trainer/data/mirror-groups.ts, what training does now), and both models are
 * also scored on `images/valid` (photos no split ever saw: the accuracy to expect on new photos).
 *
 *   npx tsx bench/photo-split-leak.ts [seed]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sha256 } from '../core/hash.js';
import { silentLogger } from '../core/logger.js';
import { readLocalModel } from '../core/model/registry.js';
import { mirrorGrouping } from '../trainer/data/mirror-groups.js';
import { scanDataset, type DataItem } from '../trainer/data/scan.js';
import { makeSplits } from '../trainer/data/splits.js';
import { evaluateDetailed } from '../trainer/eval/evaluate.js';
import { runTraining } from '../trainer/train.js';
import type { Splits } from '../trainer/training-splits.js';
import { SQUEEZENET } from './support/realistic-model.js';

const IMAGES = path.resolve('../shared/data/images');
const seed = Number(process.argv[2] ?? 1);
if (!existsSync(path.join(IMAGES, 'train')) || !existsSync(path.join(IMAGES, 'valid'))) {
  console.log(`no photographs at ${IMAGES}/{train,valid}: nothing to measure`);
  process.exit(0);
}
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const trainDir = path.join(IMAGES, 'train');
const validDir = path.join(IMAGES, 'valid');
const started = Date.now();
const scanned = await scanDataset(trainDir);
const grouping = await mirrorGrouping(trainDir, scanned.items);
const groupsPerLabel = Object.fromEntries(scanned.labels.map((l) => [l, new Set(scanned.items.filter((i) => i.label === l).map(grouping.groupOf)).size]));
console.log(`${scanned.items.length} photographs in images/train: ${grouping.groups} mirror groups (${JSON.stringify(groupsPerLabel)}), ${grouping.paired} images in a group of two or more; ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${load()}`);
const valid = (await scanDataset(validDir)).items.map((i) => ({ path: path.join(validDir, i.path), label: i.label }));
const cacheDir = path.resolve('.cache/photo-split-embeddings');
const absolute = (items: DataItem[]) => items.map((i) => ({ path: path.join(trainDir, i.path), label: i.label }));

for (const [name, groupOf] of [['file by file (before)', undefined], ['by mirror group (after)', grouping.groupOf]] as const) {
  const s = makeSplits(scanned.items, { seed, groupOf });
  const trainGroups = new Set(s.train.map(grouping.groupOf));
  const leaked = s.test.filter((i) => trainGroups.has(grouping.groupOf(i))).length;
  const splits: Splits = { labels: scanned.labels, train: absolute(s.train), val: absolute(s.val), test: absolute(s.test), generated: true, fingerprint: sha256(s.test.map((i) => i.path).join('\n')) };
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'sw-photo-leak-'));
  try {
    const t0 = Date.now();
    const result = await runTraining({ data: trainDir, splits, stateDir, cacheDir, mode: 'transfer', backbone: SQUEEZENET, seed, logger: silentLogger, tracking: false });
    const local = await readLocalModel(path.join(result.runDir, 'model.onnx'));
    const unseen = await evaluateDetailed({ modelPath: local.modelPath, input: local.manifest.input, outputName: local.manifest.output.name, labels: local.manifest.labels, files: valid });
    console.log(`${name}, seed ${seed}: train ${s.train.length} / val ${s.val.length} / test ${s.test.length}, test images whose mirror copy is in train ${leaked}; test-split accuracy ${result.metrics.accuracy.toFixed(4)}, images/valid accuracy ${unseen.metrics.accuracy.toFixed(4)}; ${((Date.now() - t0) / 60000).toFixed(1)} min; load average ${load()}`);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}
console.log(`${os.cpus().length} cores; ${new Date().toISOString()}`);
process.exit(0);
