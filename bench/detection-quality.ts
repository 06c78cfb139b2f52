/**
 * Detection quality on clips no model saw (npm run bench:quality).
 *
 * Every shared clip is followed by the camera stages (motion + tracker at 5 fps, `data from-videos`),
 * then 5-fold cross-validation BY CLIP: for each fold, the crop model and the track model are trained
 * on the other four folds exactly as `skywatch train --kind track` (and `npm start`'s default model)
 * trains them, and the fold's clips are judged by the judge the cameras run, with the shipped alert
 * policy. So every clip is judged by a model that never saw it. Reported per label: clips, share with
 * a drone alert (recall for drone clips, false alarms for the others), drone alerts per alerted clip,
 * median clip time to the first alert, motion recall (clips where a track was found) and per-track
 * accuracy of each clip's main object; the same for the mean-of-crops verdict as a baseline.
 *
 * Each policy runs with the judge's rejoin rule (DEFAULT_REJOIN: a lost drone that comes back continues
 * its alert) and once without it, for where the extra alerts come from (each extra drone alert against
 * the alerting track nearest before it: time gap, distance in object sizes).
 *
 * BENCH_REJOIN=1 adds a grid of rejoin windows and gates. BENCH_CROP_SIZE (the crop model's square input
 * in pixels; default: the backbone's own), BENCH_CROP_HEADS (crop heads averaged; default: the shipped setting), BENCH_FOLDS (5), BENCH_SEED (1), BENCH_PHOTOS (photographs for the crop model; default images/train, so
 * that images/valid scores each fold's crop model, as npm start's default model takes the train split;
 * ../shared/data/images takes every split, and the photo line then scores photographs seen; empty: none), BENCH_TRACKS (a track data set to reuse; default: built in
 * .cache/bench-tracks from ../shared/data/videos). BENCH_SETTINGS (JSON over the track training settings, e.g. `{"folds":5}`). BENCH_TRAIN_SUBSAMPLE=K trains each fold on all but one
 * of K folds of its training clips: the same test clips judged by models that saw less (K=5: what a
 * held-out evaluation's model sees against the refit on every clip that ships).
 *
 * BENCH_SUBSTREAM=W also judges every held-out clip (same fold models) as a camera whose main stream is
 * the clip scaled to W pixels wide: once with crops from that stream, once with a crop stream (`cropUrl`)
 * of the clip at its own size. Its track sets are built in .cache/bench-tracks-subW[-crop].
 * BENCH_LOOPS=N also judges every held-out clip as a looping file camera plays it: N times in a row,
 * without a break (.cache/bench-tracks-loopN).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scanDataset } from '../trainer/data/scan.js';
import { scanAllSplits } from '../trainer/data/scan-all-splits.js';
import { buildTracksFromVideos, type TracksFromVideosOptions } from '../trainer/data/tracks-from-videos.js';
import { initTfBackend } from '../trainer/tfjs/backend.js';
import { crossValidateClips, outcomesKey, type NamedPolicy } from '../trainer/track/cross-validate.js';
import { summarise, type ClipOutcome } from '../trainer/track/evaluate-clips.js';
import { predictRowsMean } from '../trainer/track/heads.js';
import { cropBackboneOptions, DEFAULT_TRACK_TRAINING, embedClips } from '../trainer/track/train-track.js';
import { DEFAULT_ALERT_POLICY } from '../trainer/track/train-track-model.js';
import { readTrackSet } from '../trainer/track/track-set.js';
import { DEFAULT_REJOIN } from '../tracking/track-judge.js';
import { loadBackbone } from '../trainer/transfer/backbone.js';
import { computeEmbeddings } from '../trainer/transfer/embeddings.js';
import { detectionTable } from './support/detection-table.js';

const VIDEOS = path.resolve('../shared/data/videos');
const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const FOLDS = Number(process.env.BENCH_FOLDS ?? 5);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const tracksDir = path.resolve(process.env.BENCH_TRACKS ?? '.cache/bench-tracks');
const CROP_HEADS = Number(process.env.BENCH_CROP_HEADS ?? DEFAULT_TRACK_TRAINING.cropHeads);
if (!existsSync(VIDEOS)) {
  console.log(`no clips at ${VIDEOS}: nothing to measure`);
  process.exit(0);
}
const started = Date.now();
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
if (!existsSync(path.join(tracksDir, 'drone'))) {
  console.log(`following the objects of ${VIDEOS} into ${tracksDir} ...`);
  const built = await buildTracksFromVideos(VIDEOS, tracksDir, { onProgress: (p) => p.done % 20 === 0 && console.log(`  ${p.done}/${p.total} clips`) });
  console.log(`  ${built.clips} clips in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
await initTfBackend('auto');
const clips = await readTrackSet(tracksDir);
// The features the shipped crop model is trained on.
const CROP_SIZE = process.env.BENCH_CROP_SIZE ? Number(process.env.BENCH_CROP_SIZE) : undefined;
// Quantised as training quantises it: calibrated on crops spread over every clip (pixels only, no labels).
const SETTINGS = process.env.BENCH_SETTINGS ? (JSON.parse(process.env.BENCH_SETTINGS) as Partial<typeof DEFAULT_TRACK_TRAINING>) : {};
const backbone = await loadBackbone(BACKBONE, { ...cropBackboneOptions(clips, { ...DEFAULT_TRACK_TRAINING, ...SETTINGS }), ...(CROP_SIZE ? { size: CROP_SIZE } : {}) });
console.log(`crop model input ${backbone.input.width}x${backbone.input.height}`);
const t0 = Date.now();
const data = await embedClips(backbone, clips, { cacheDir: path.resolve('.cache/bench-embeddings') });
console.log(`${data.features.length / data.dim} crops embedded in ${((Date.now() - t0) / 1000).toFixed(0)} s; load average ${load()}`);
// The crop model of `npm start`'s default also learns from the photographs' training split.
const PHOTOS = path.resolve(process.env.BENCH_PHOTOS ?? '../shared/data/images/train');
let extraCrops: { features: Float32Array; labels: string[] } | undefined;
if (process.env.BENCH_PHOTOS !== '' && existsSync(PHOTOS)) {
  // A data set of split folders (BENCH_PHOTOS=../shared/data/images) is taken whole: every split in the crop model.
  const scanned = await scanAllSplits(PHOTOS);
  extraCrops = { features: await computeEmbeddings(backbone, scanned.items.map((i) => path.join(PHOTOS, i.path)), { cacheDir: path.resolve('.cache/bench-embeddings'), augment: false }), labels: scanned.items.map((i) => i.label) };
  console.log(`${scanned.items.length} photographs join every crop model`);
}
const NO_REJOIN = { rejoinMs: 0 };
const policies: NamedPolicy[] = [{ name: 'shipped policy', ...DEFAULT_ALERT_POLICY }, { name: 'shipped policy, no rejoin', ...DEFAULT_ALERT_POLICY, rejoin: NO_REJOIN }];
if (process.env.BENCH_REJOIN) {
  for (const rejoinMs of [2_000, 4_000, 6_000, 10_000]) for (const rejoinSizes of [2, 4, 8]) for (const rejoinSizesPerSecond of [0, 2]) policies.push({ name: `rejoin ${rejoinMs} ms, ${rejoinSizes} sizes + ${rejoinSizesPerSecond}/s`, ...DEFAULT_ALERT_POLICY, rejoin: { rejoinMs, rejoinSizes, rejoinSizesPerSecond } });
}
// BENCH_SWEEP=1: the grid the shipped policy was chosen from (track model, crops' mean, and blends).
if (process.env.BENCH_SWEEP) {
  for (const blend of [1, 0.75, 0.5, 0.25, 0]) for (const threshold of [0.6, 0.7, 0.8, 0.9]) for (const minCrops of [3, 5, 8]) policies.push({ name: `blend ${blend}, threshold ${threshold}, ${minCrops} crops`, threshold, minCrops, blend, alertLabels: ['drone'] });
} else {
  policies.push({ name: 'crops mean only (baseline)', ...DEFAULT_ALERT_POLICY, blend: 0, rejoin: NO_REJOIN }, { name: 'track model only', ...DEFAULT_ALERT_POLICY, blend: 1, rejoin: NO_REJOIN });
}
// Single-image predict: each fold's crop model on the photographs' valid split (never trained on).
const VALID = path.resolve('../shared/data/images/valid');
const valid = existsSync(VALID) ? await scanDataset(VALID) : null;
const validFeatures = valid ? await computeEmbeddings(backbone, valid.items.map((i) => path.join(VALID, i.path)), { cacheDir: path.resolve('.cache/bench-embeddings'), augment: false }) : null;
// BENCH_SUBSTREAM: the held-out clips as a camera's small sub stream, without and with a crop stream.
const SUBSTREAM = process.env.BENCH_SUBSTREAM ? Number(process.env.BENCH_SUBSTREAM) : 0;
const alternatives: Array<{ name: string; data: typeof data }> = [];
/** Another track set of the same clips (built in `dir` once, then reused), judged by the same fold models. */
async function addAlternative(name: string, dir: string, options: TracksFromVideosOptions): Promise<void> {
  if (!existsSync(path.join(dir, 'drone'))) {
    console.log(`following the objects of ${VIDEOS} as ${name} into ${dir} ...`);
    await buildTracksFromVideos(VIDEOS, dir, { ...options, onProgress: (p) => p.done % 20 === 0 && console.log(`  ${p.done}/${p.total} clips`) });
  }
  alternatives.push({ name, data: await embedClips(backbone, await readTrackSet(dir), { cacheDir: path.resolve('.cache/bench-embeddings') }) });
}
if (SUBSTREAM) {
  for (const cropStream of [false, true]) {
    await addAlternative(`main stream ${SUBSTREAM} px${cropStream ? ' + crop stream' : ''}`, path.resolve(`.cache/bench-tracks-sub${SUBSTREAM}${cropStream ? '-crop' : ''}`), { decodeWidth: SUBSTREAM, cropStream });
  }
}
// BENCH_LOOPS=n: the held-out clips as ffmpeg's own loop joins them, n times in a row (how a looping file
// camera was played before each pass started afresh); a clip's alerts over all its plays.
const LOOPS = process.env.BENCH_LOOPS ? Number(process.env.BENCH_LOOPS) : 0;
if (LOOPS > 1) await addAlternative(`looped ${LOOPS} times`, path.resolve(`.cache/bench-tracks-loop${LOOPS}`), { loops: LOOPS });
const photoAccuracy: number[] = [];
const photoStrict: number[] = [];
const cv = await crossValidateClips(data, {
  folds: FOLDS, seed: SEED, policies, trainSubsample: process.env.BENCH_TRAIN_SUBSAMPLE ? Number(process.env.BENCH_TRAIN_SUBSAMPLE) : undefined, settings: { extraCrops, cropHeads: CROP_HEADS, ...SETTINGS }, alternatives, onProgress: (m) => process.stderr.write(`${m}\n`),
  onFold: (parts) => {
    if (!valid || !validFeatures) return;
    const probs = predictRowsMean(parts.cropHeads, validFeatures, data.dim);
    const L = parts.labels.length;
    let right = 0;
    let strict = 0;
    valid.items.forEach((item, i) => {
      let top = 0;
      for (let k = 1; k < L; k++) if (probs[i * L + k] > probs[i * L + top]) top = k;
      if (parts.labels[top] === item.label) strict++;
      // A photograph is either of the data set's labels: the better of those two scores decides.
      const candidates = valid.labels.filter((l) => parts.labels.includes(l));
      const best = candidates.reduce((a, b) => (probs[i * L + parts.labels.indexOf(b)] > probs[i * L + parts.labels.indexOf(a)] ? b : a));
      if (best === item.label) right++;
    });
    photoAccuracy.push(right / valid.items.length);
    photoStrict.push(strict / valid.items.length);
  },
});
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const report: Record<string, unknown> = {};
for (const p of policies) {
  const outcomes = cv.outcomes.get(p.name)!;
  const s = summarise(outcomes);
  report[p.name] = { summary: s, outcomes };
  const rejoin = { ...DEFAULT_REJOIN, ...p.rejoin };
  console.log(`\n${p.name}: threshold ${p.threshold}, ${p.minCrops} crops, blend ${p.blend}, ${rejoin.rejoinMs ? `rejoin ${rejoin.rejoinMs} ms within ${rejoin.rejoinSizes} sizes + ${rejoin.rejoinSizesPerSecond}/s` : 'no rejoin'}`);
  for (const line of detectionTable(outcomes)) console.log(line);
  console.log(`motion recall (clips with a track): ${pct(s.motionRecall)}; per-track accuracy of the main objects: ${s.trackAccuracy.toFixed(3)}`);
  printExtraAlerts(outcomes.filter((o) => o.label === 'drone'));
}
for (const alt of alternatives) {
  const key = outcomesKey(policies[0].name, alt.name);
  const outcomes = cv.outcomes.get(key)!;
  const s = summarise(outcomes);
  report[key] = { summary: s, outcomes };
  console.log(`\n${key}:`);
  for (const line of detectionTable(outcomes)) console.log(line);
  console.log(`motion recall (clips with a track): ${pct(s.motionRecall)}; per-track accuracy of the main objects: ${s.trackAccuracy.toFixed(3)}`);
}
if (photoAccuracy.length) console.log(`\nphotographs (images/valid, ${valid!.items.length}): crop model accuracy per fold ${photoAccuracy.map((a) => a.toFixed(3)).join(', ')} (drone vs bird); top label over all labels ${photoStrict.map((a) => a.toFixed(3)).join(', ')}`);
console.log(`\n${FOLDS}-fold cross-validation by clip, seed ${SEED}, ${CROP_HEADS} crop head(s)${process.env.BENCH_TRAIN_SUBSAMPLE ? `, each fold trained on ${Number(process.env.BENCH_TRAIN_SUBSAMPLE) - 1}/${process.env.BENCH_TRAIN_SUBSAMPLE} of its training clips` : ''}: ${(cv.seconds / 60).toFixed(1)} min of training and judging; total ${((Date.now() - started) / 60000).toFixed(1)} min; load average ${load()}; ${os.cpus().length} cores; ${new Date().toISOString()}`);
await mkdir('bench/results', { recursive: true });
await writeFile(`bench/results/detection-quality-${Date.now()}.json`, JSON.stringify(report, null, 1));

/** Where the extra drone alerts on drone clips come from: overlapping tracks, or a gap, and how far. */
function printExtraAlerts(outcomes: ClipOutcome[]): void {
  const extra = outcomes.flatMap((o) => o.extraAlerts.map((e) => ({ clip: o.clip, ...e })));
  if (!extra.length) return;
  const q = (v: number[], f: number) => v.sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(f * v.length))];
  const quartiles = (v: number[]) => [0.25, 0.5, 0.75, 0.9].map((f) => q([...v], f).toFixed(1)).join(' / ');
  const overlap = extra.filter((e) => e.gapMs < 0);
  const gaps = extra.filter((e) => e.gapMs >= 0);
  console.log(`extra drone alerts on drone clips: ${extra.length} (${overlap.length} from a track living beside the earlier one, ${gaps.length} after a gap)`);
  if (overlap.length) console.log(`  beside: distance in sizes (quartiles, p90) ${quartiles(overlap.map((e) => e.sizes))}; alert after its start, ms ${quartiles(overlap.map((e) => e.openAfterMs))}`);
  if (gaps.length) console.log(`  gap: ms ${quartiles(gaps.map((e) => e.gapMs))}; distance in sizes ${quartiles(gaps.map((e) => e.sizes))}; alert after its start, ms ${quartiles(gaps.map((e) => e.openAfterMs))}`);
  if (process.env.BENCH_VERBOSE) for (const e of extra) console.log(`  ${e.clip}: gap ${e.gapMs} ms, ${e.sizes.toFixed(1)} sizes of ${e.size} px, alert ${e.openAfterMs} ms after its start`);
}
