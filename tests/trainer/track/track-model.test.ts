import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../../core/errors.js';
import { silentLogger } from '../../../core/logger.js';
import { ModelRegistry } from '../../../core/model/registry.js';
import { loadDriftBaseline } from '../../../drift/baseline-store.js';
import { LocalStore } from '../../../core/storage/local-store.js';
import { predictClip } from '../../../inference/clip-predictor.js';
import { MicroBatcher } from '../../../inference/micro-batcher.js';
import { ModelHolder } from '../../../inference/model-holder.js';
import { Predictor } from '../../../inference/predictor.js';
import { buildTracksFromVideos } from '../../../trainer/data/tracks-from-videos.js';
import { decodeModel } from '../../../trainer/onnx/onnx-proto.js';
import { INT8_CALIBRATION_CROPS } from '../../../trainer/track/train-track.js';
import { trainTrackModel, type TrackTrainingResult } from '../../../trainer/track/train-track-model.js';
import { readTrackSet } from '../../../trainer/track/track-set.js';
import type { TrainingProfile } from '../../../trainer/profile/phase-profiler.js';
import { compareRuns } from '../../../trainer/runs/compare-runs.js';
import { exportMlflow } from '../../../trainer/runs/mlflow-export.js';
import { RunStore } from '../../../trainer/runs/run-store.js';

const exec = promisify(execFile);

const VIDEOS = path.resolve('../shared/data/videos');
const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');

// Shared by the tests below: the first builds the track data set and trains on it.
let root: string;
let registry: string;
let trained: TrackTrainingResult;
const SETTINGS = { folds: 2, maxCropsPerTrack: 8, cropHeads: 2, crop: { epochs: 4, learningRate: 1e-3, batchSize: 32 }, track: { epochs: 8, learningRate: 3e-3, batchSize: 32 } };

describe.skipIf(!existsSync(VIDEOS) || !existsSync(BACKBONE))('track models on real clips', () => {
  it('from-videos writes tracks, train --kind track publishes model.onnx + track.onnx, the holder serves its verdict and a clip is judged', async () => {
    root = mkdtempSync(path.join(tmpdir(), 'sw-track-'));
    // Two clips of each label, their first 5 s: a test fold and a training fold of clips.
    for (const label of readdirSync(VIDEOS).sort()) {
      mkdirSync(path.join(root, 'clips', label), { recursive: true });
      for (const f of readdirSync(path.join(VIDEOS, label)).sort().slice(0, 2)) symlinkSync(path.join(VIDEOS, label, f), path.join(root, 'clips', label, f));
    }
    const built = await buildTracksFromVideos(path.join(root, 'clips'), path.join(root, 'tracks'), { concurrency: 2, maxFrames: 25 });
    expect(built.clips).toBe(8);
    expect(built.perLabel.drone.tracks).toBeGreaterThan(0);
    const clips = await readTrackSet(path.join(root, 'tracks'));
    expect(clips).toHaveLength(8);
    // Points are in frame order and every point has its crop.
    for (const c of clips) for (const t of c.tracks) {
      expect(t.points.map((p) => p.seq)).toEqual([...t.points.map((p) => p.seq)].sort((a, b) => a - b));
      expect(t.crops.every((f) => existsSync(f))).toBe(true);
    }
    registry = path.join(root, 'registry');
    const result = await trainTrackModel({
      tracks: path.join(root, 'tracks'), registry, stateDir: path.join(root, 'state'), backbone: BACKBONE, seed: 3, testFolds: 2, publish: true, logger: silentLogger, profileSteps: 5,
      settings: { ...SETTINGS, quantiseCalibration: INT8_CALIBRATION_CROPS },
    });
    trained = result;
    expect(result.decision?.promoted).toBe(true);
    expect(result.outcomes.length).toBeGreaterThan(0);
    const reg = new ModelRegistry(new LocalStore(registry));
    const { manifest, files } = await reg.show('latest');
    expect(manifest.kind).toBe('track');
    expect(files).toContain('track.onnx');
    // The drift baseline travels with it: the test clips' crops as the exported crop model scores them.
    const baseline = await loadDriftBaseline(reg, manifest.version);
    expect(baseline).toMatchObject({ model: manifest.version, labels: manifest.labels });
    expect(baseline!.count).toBeGreaterThan(0);
    expect(manifest.labels).toContain('other');
    expect(manifest.track?.features.length).toBeGreaterThan(10);
    // Trained with 8-bit crops (train --int8-crops), the crop model calibrated on the clips' own crops:
    // every Conv reads its input and weights through DequantizeLinear.
    const shipped = decodeModel(readFileSync(path.join(result.runDir, 'model.onnx'))).graph!;
    const dequantised = new Set(shipped.node!.filter((n) => n.opType === 'DequantizeLinear').map((n) => n.output![0]));
    const convs = shipped.node!.filter((n) => n.opType === 'Conv');
    expect(convs.length).toBeGreaterThan(20);
    expect(convs.every((n) => dequantised.has(n.input![0]) && dequantised.has(n.input![1]))).toBe(true);

    const holder = new ModelHolder({ registry: reg, cacheDir: path.join(root, 'cache'), threads: { intraOpThreads: 1, interOpThreads: 1 }, pollIntervalMs: 60_000, logger: silentLogger });
    expect(await holder.reload()).toBe('loaded');
    try {
      const verdict = holder.current!.verdict;
      expect(verdict.labels).toEqual(manifest.labels);
      const drone = clips.find((c) => c.label === 'drone' && c.tracks.some((t) => t.points.length > 5))!;
      const track = drone.tracks.find((t) => t.points.length > 5)!;
      const probs = track.points.map(() => Float32Array.from(manifest.labels, (l) => (l === 'drone' ? 0.9 : 0.1 / (manifest.labels.length - 1))));
      const v = await verdict.judge(track.points, probs, drone.width, drone.height);
      expect(Object.values(v.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      const predictor = new Predictor(holder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 2 }), { maxPixels: 40_000_000 });
      const clipFile = path.join(root, 'clips', 'drone', readdirSync(path.join(root, 'clips', 'drone')).sort()[0]);
      const prediction = await predictClip(clipFile, { holder, predictor });
      expect(prediction.modelVersion).toBe(manifest.version);
      expect(prediction.width).toBe(640);
      expect(prediction.tracks.length).toBeGreaterThan(0);
      expect(prediction.tracks.every((t) => t.points.length >= 2)).toBe(true);
    } finally {
      await holder.stop();
    }
  }, 600_000);

  it('records the track run like every training: parameters, data fingerprint, code, epochs of each head, clip-level metrics, artifacts, machine', async () => {
    expect(trained, 'the training test ran first').toBeDefined();
    const runs = new RunStore(new LocalStore(registry));
    const rec = await runs.get(trained.version);
    expect(rec).toMatchObject({ id: trained.version, kind: 'track', status: 'finished', modelVersion: trained.version, published: { promoted: true }, error: null });
    expect(rec.params).toMatchObject({ seed: 3, testFolds: 2, folds: 2, maxCropsPerTrack: 8, crop: SETTINGS.crop, track: SETTINGS.track, photos: null, policy: { alertLabels: ['drone'] } });
    expect(rec.data.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(rec.data.source).toBe(path.join(root, 'tracks'));
    expect(Object.values(rec.data.counts?.test ?? {}).reduce((a, b) => a + b, 0) + Object.values(rec.data.counts?.train ?? {}).reduce((a, b) => a + b, 0)).toBe(8);
    expect(rec.code.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(rec.machine.cpus).toBeGreaterThan(0);
    expect(rec.machine.backend).toBeDefined();
    // Every fit's epochs under its part: the out-of-fold crop heads, the track head, the shipped crop head.
    const perPart = new Map<string, number[]>();
    for (const e of rec.epochs) perPart.set(e.part!, [...(perPart.get(e.part!) ?? []), e.epoch]);
    // Then the same fits again on every clip (refit): the models that ship.
    const fits = ['crop fold 1/2 head 1/2', 'crop fold 1/2 head 2/2', 'crop fold 2/2 head 1/2', 'crop fold 2/2 head 2/2', 'track', 'crop head 1/2', 'crop head 2/2'];
    expect([...perPart.keys()]).toEqual([...fits, ...fits.map((f) => `refit ${f}`)]);
    expect(rec.params).toMatchObject({ refit: true });
    expect(perPart.get('track')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(perPart.get('crop head 2/2')).toEqual([1, 2, 3, 4]);
    for (const e of rec.epochs) {
      expect(Number.isFinite(e.loss)).toBe(true);
      expect(e.accuracy).toBeGreaterThanOrEqual(0);
    }
    // metrics.jsonl in the run folder carries the same curves.
    expect(readFileSync(path.join(trained.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(rec.epochs.length);
    // Final metrics: per-track accuracy and clip-level alerts per label on the held-out clips.
    expect(rec.metrics?.accuracy).toBe(trained.metrics?.accuracy);
    const recall = rec.metrics?.clipRecall as Record<string, number>;
    const falseAlarms = rec.metrics?.clipFalseAlarm as Record<string, number>;
    expect(Object.keys(recall)).toEqual(['drone']);
    expect(recall.drone).toBe(trained.detection.alertedShare.drone);
    expect(Object.keys(falseAlarms).sort()).toEqual(Object.keys(trained.detection.alertedShare).filter((l) => l !== 'drone').sort());
    expect(rec.artifacts.map((a) => a.name)).toEqual(expect.arrayContaining(['model.onnx', 'track.onnx', 'manifest.json', 'report.html', 'profile.json']));
    expect(rec.artifacts.find((a) => a.name === 'track.onnx')?.where).toBe(`models/${trained.version}/track.onnx`);
    expect(existsSync(path.join(registry, 'models', trained.version, 'track.onnx'))).toBe(true);
    expect(rec.durationSeconds).toBeGreaterThan(0);
    // The manifest names the same data.
    const manifest = JSON.parse(readFileSync(path.join(trained.runDir, 'manifest.json'), 'utf8')) as { dataset: { fingerprint: string }; training: { fit: unknown; trackExamples: Record<string, number> } };
    expect(manifest.dataset.fingerprint).toBe(rec.data.fingerprint);
    // The shipped models learnt from all 8 clips; the figures are those of the model trained on the 4 of the training split.
    expect(manifest.training.fit).toEqual({ clips: 8, refit: true, evaluatedOn: { trainClips: 4, testClips: 4 } });
    const trainLabels = Object.keys(rec.data.counts?.train ?? {});
    const testOnly = Object.keys(rec.data.counts?.test ?? {}).filter((l) => !trainLabels.includes(l));
    expect(testOnly, 'every label is in both splits').toEqual([]);
    // The model the figures were measured on is kept beside the shipped one, and they differ.
    const evaluatedModel = readFileSync(path.join(trained.runDir, 'evaluated-model.onnx'));
    expect(evaluatedModel.length).toBeGreaterThan(100_000);
    expect(evaluatedModel.equals(readFileSync(path.join(trained.runDir, 'model.onnx')))).toBe(false);
    // --profile-steps: phases of a track run, in the run folder and beside the record.
    const profile = JSON.parse(readFileSync(path.join(trained.runDir, 'profile.json'), 'utf8')) as TrainingProfile;
    for (const phase of ['scan', 'embed', 'step', 'evaluate', 'export']) expect(profile.phases[phase].seconds, phase).toBeGreaterThan(0);
    expect(profile.steps?.profiled).toBe(5);
    expect(existsSync(path.join(registry, 'runs', trained.version, 'profile.json'))).toBe(true);
    // Comparison and MLflow export read it: clip metrics by name, each head's curves under its own.
    const c = compareRuns([rec, rec]);
    expect(c.metrics.map((m) => m.name)).toEqual(expect.arrayContaining(['accuracy', 'clipRecall[drone]', 'epochsRun[track]', 'lastLoss[crop head 2/2]']));
    const out = await exportMlflow([rec], path.join(root, 'mlruns'));
    const metricFiles = readdirSync(path.join(out.runs[0].dir, 'metrics'));
    expect(metricFiles).toEqual(expect.arrayContaining(['track_loss', 'crop_head_1_2_loss', 'crop_fold_1_2_head_1_2_accuracy', 'test_clip_recall_drone']));
  }, 120_000);

  it('a failing track training is recorded as failed with its error; runs list and show print track runs', async () => {
    expect(trained, 'the training test ran first').toBeDefined();
    const missing = path.join(root, 'no-such-backbone.onnx');
    const err = await trainTrackModel({ tracks: path.join(root, 'tracks'), registry, stateDir: path.join(root, 'state'), backbone: missing, seed: 3, testFolds: 2, logger: silentLogger, settings: SETTINGS }).catch((e: unknown) => e);
    expect(isSkywatchError(err, 'MODEL_NOT_FOUND')).toBe(true);
    const runs = await new RunStore(new LocalStore(registry)).list();
    const failed = runs.find((r) => r.status === 'failed');
    expect(failed).toMatchObject({ kind: 'track', modelVersion: null, error: { code: 'MODEL_NOT_FOUND' } });
    expect(failed?.error?.message).toContain(missing);
    // The data was read before the failure: its fingerprint is the successful run's.
    expect(failed?.data.fingerprint).toBe((await new RunStore(new LocalStore(registry)).get(trained.version)).data.fingerprint);
    expect(failed?.durationSeconds).toBeGreaterThanOrEqual(0);

    const bin = path.resolve('bin/skywatch.mjs');
    const env = { ...process.env, SKYWATCH_LOG_LEVEL: 'warn' };
    const list = await exec('node', [bin, 'runs', 'list', '--registry', registry], { env });
    expect(list.stdout).toMatch(/\bkind\b/);
    expect(list.stdout).toMatch(new RegExp(`${trained.version}\\s+track\\s+finished`));
    expect(list.stdout).toMatch(new RegExp(`${failed!.id}\\s+track\\s+failed`));
    const show = await exec('node', [bin, 'runs', 'show', trained.version, '--registry', registry], { env });
    expect(show.stdout).toContain(`${trained.version} (track, finished)`);
    expect(show.stdout).toMatch(/track accuracy \d/);
    expect(show.stdout).toMatch(/clips +alerted: drone [\d.]+% \(recall\)/);
    expect(show.stdout).toMatch(/^ +track: 1:/m);
    expect(show.stdout).toContain('track.onnx');
    const shownFailed = await exec('node', [bin, 'runs', 'show', failed!.id, '--registry', registry], { env });
    expect(shownFailed.stdout).toContain('error     MODEL_NOT_FOUND');
  }, 300_000);
});
