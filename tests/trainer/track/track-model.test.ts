import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/logger.js';
import { ModelRegistry } from '../../../core/model/registry.js';
import { LocalStore } from '../../../core/storage/local-store.js';
import { predictClip } from '../../../inference/clip-predictor.js';
import { MicroBatcher } from '../../../inference/micro-batcher.js';
import { ModelHolder } from '../../../inference/model-holder.js';
import { Predictor } from '../../../inference/predictor.js';
import { buildTracksFromVideos } from '../../../trainer/data/tracks-from-videos.js';
import { trainTrackModel } from '../../../trainer/track/train-track-model.js';
import { readTrackSet } from '../../../trainer/track/track-set.js';

const VIDEOS = path.resolve('../shared/data/videos');
const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');

describe.skipIf(!existsSync(VIDEOS) || !existsSync(BACKBONE))('track models on real clips', () => {
  it('from-videos writes tracks, train --kind track publishes model.onnx + track.onnx, the holder serves its verdict and a clip is judged', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-track-'));
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
    const registry = path.join(root, 'registry');
    const result = await trainTrackModel({
      tracks: path.join(root, 'tracks'), registry, stateDir: path.join(root, 'state'), backbone: BACKBONE, seed: 3, testFolds: 2, publish: true, logger: silentLogger,
      settings: { folds: 2, maxCropsPerTrack: 8, crop: { epochs: 4, learningRate: 1e-3, batchSize: 32 }, track: { epochs: 8, learningRate: 3e-3, batchSize: 32 } },
    });
    expect(result.decision?.promoted).toBe(true);
    expect(result.outcomes.length).toBeGreaterThan(0);
    const reg = new ModelRegistry(new LocalStore(registry));
    const { manifest, files } = await reg.show('latest');
    expect(manifest.kind).toBe('track');
    expect(files).toContain('track.onnx');
    expect(manifest.labels).toContain('other');
    expect(manifest.track?.features.length).toBeGreaterThan(10);

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
});
