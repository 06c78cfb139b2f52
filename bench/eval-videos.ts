/**
 * Video-crop benchmark (npm run bench:videos): crops of moving objects from every labelled sky clip in
 * ../shared/data/videos (the motion module live cameras use), split by clip, a transfer model trained
 * on the training clips' crops and evaluated on crops of clips it never saw. Also: the share of test
 * clips whose majority vote over their crops is right.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../core/logger.js';
import { buildCropsFromVideos } from '../trainer/data/from-videos.js';
import { readSplits } from '../trainer/data/splits.js';
import { evaluateDetailed } from '../trainer/eval/evaluate.js';
import { createProgress } from '../trainer/fit/progress.js';
import { runTraining } from '../trainer/train.js';

const CLIPS = path.resolve(process.env.BENCH_CLIPS ?? '../shared/data/videos');
const work = mkdtempSync(path.join(os.tmpdir(), 'sw-videos-'));
const crops = path.join(work, 'crops');
const t0 = performance.now();
const built = await buildCropsFromVideos(CLIPS, crops, {
  fps: Number(process.env.BENCH_FPS ?? 3),
  maxCropsPerClip: Number(process.env.BENCH_MAX_PER_CLIP ?? 24),
  seed: 7,
  onProgress: (p) => p.done % 20 === 0 && console.log(`  ${p.done}/${p.total} clips, ${p.crops} crops`),
});
const cropSeconds = (performance.now() - t0) / 1000;
console.log(`crops: ${JSON.stringify(built.crops)} from ${built.clips} clips in ${cropSeconds.toFixed(0)} s (${built.skipped.length} clips skipped)`);

const t1 = performance.now();
const result = await runTraining({
  data: crops,
  registry: path.join(work, 'registry'),
  stateDir: path.join(work, 'state'),
  mode: 'transfer',
  backbone: path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx'),
  seed: 1,
  publish: false,
  logger: createLogger({ level: 'warn', destination: process.stderr }),
  progress: createProgress(process.stderr, { tty: false }),
});
const trainSeconds = (performance.now() - t1) / 1000;
const m = result.metrics;
console.log(`test crops (unseen clips): accuracy ${m.accuracy.toFixed(4)}, macro F1 ${m.macroF1.toFixed(4)}, ${m.count} crops; training ${trainSeconds.toFixed(0)} s`);
for (const [label, s] of Object.entries(m.perLabel)) console.log(`  ${label.padEnd(11)} precision ${s.precision.toFixed(3)} recall ${s.recall.toFixed(3)} F1 ${s.f1.toFixed(3)} support ${s.support}`);
console.log(`confusion (${Object.keys(m.perLabel).join(', ')}): ${JSON.stringify(m.confusion)}`);

// Clip-level vote: what an alert rule sees is many crops of one clip, not one.
const manifest = JSON.parse(readFileSync(path.join(result.runDir, 'manifest.json'), 'utf8'));
const { splits } = await readSplits(crops);
const sources = JSON.parse(readFileSync(path.join(crops, 'sources.json'), 'utf8')) as Record<string, string>;
const detailed = await evaluateDetailed({ modelPath: path.join(result.runDir, 'model.onnx'), input: manifest.input, outputName: manifest.output.name, labels: manifest.labels, files: splits.test.map((f) => ({ path: path.join(crops, f.path), label: f.label })) });
const votes = new Map<string, { label: string; counts: Map<string, number> }>();
for (const p of detailed.predictions) {
  const clip = sources[path.relative(crops, p.path).split(path.sep).join('/')];
  const v = votes.get(clip) ?? { label: p.label, counts: new Map() };
  v.counts.set(p.predicted, (v.counts.get(p.predicted) ?? 0) + 1);
  votes.set(clip, v);
}
let right = 0;
let droneClips = 0;
let droneFound = 0;
let otherClips = 0;
let falseDrone = 0;
for (const v of votes.values()) {
  const winner = [...v.counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  if (winner === v.label) right++;
  if (v.label === 'drone') {
    droneClips++;
    if (winner === 'drone') droneFound++;
  } else {
    otherClips++;
    if (winner === 'drone') falseDrone++;
  }
}
console.log(`test clips: ${votes.size}; majority vote right ${right}/${votes.size}; drone clips called drone ${droneFound}/${droneClips}; other clips called drone ${falseDrone}/${otherClips}`);
