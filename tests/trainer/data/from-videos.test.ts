import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { buildCropsFromVideos } from '../../../trainer/data/from-videos.js';
import { readSplits } from '../../../trainer/data/splits.js';
import { makeClip } from '../../support/clips.js';

const REAL = path.resolve('../shared/data/videos/drone');

describe('data from-videos', () => {
  it('crops moving objects, finds none in a still clip, reports a broken clip and splits by clip', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-clips-'));
    const clips = path.join(root, 'clips');
    for (let i = 0; i < 3; i++) makeClip(path.join(clips, 'drone', `moving-${i}.mp4`), { moving: true });
    makeClip(path.join(clips, 'bird', 'still.mp4'), { moving: false });
    makeClip(path.join(clips, 'bird', 'moving.mp4'), { moving: true });
    writeFileSync(path.join(clips, 'bird', 'broken.mp4'), 'not a video');
    const out = path.join(root, 'crops');
    const result = await buildCropsFromVideos(clips, out, { fps: 5, cropSize: 64, maxCropsPerClip: 6, motion: { minArea: 20 } });
    expect(result.clips).toBe(6);
    expect(result.skipped.map((s) => s.path)).toEqual(['bird/broken.mp4']);
    expect(result.crops.drone).toBe(18);
    const birdFiles = readdirSync(path.join(out, 'bird'));
    expect(birdFiles.every((f) => f.startsWith('moving__'))).toBe(true);
    const meta = await sharp(path.join(out, 'drone', readdirSync(path.join(out, 'drone'))[0])).metadata();
    expect([meta.width, meta.height]).toEqual([64, 64]);
    // The crop is centred on the dark square: its middle is dark, its corner is sky.
    const { data } = await sharp(path.join(out, 'drone', readdirSync(path.join(out, 'drone'))[2])).raw().toBuffer({ resolveWithObject: true });
    expect(data[(32 * 64 + 32) * 3]).toBeLessThan(90);
    const sources = JSON.parse(readFileSync(path.join(out, 'sources.json'), 'utf8')) as Record<string, string>;
    const { splits } = await readSplits(out);
    const splitOfClip = new Map<string, string>();
    for (const [name, items] of Object.entries(splits)) for (const item of items) {
      const clip = sources[item.path];
      expect(splitOfClip.get(clip) ?? name).toBe(name);
      splitOfClip.set(clip, name);
    }
    expect(splitOfClip.size).toBe(4);
  });

  it.skipIf(!existsSync(REAL))('finds the drone in a real sky clip', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-real-'));
    const clip = readdirSync(REAL).sort()[0];
    mkdirSync(path.join(root, 'clips', 'drone'), { recursive: true });
    copyFileSync(path.join(REAL, clip), path.join(root, 'clips', 'drone', clip));
    const result = await buildCropsFromVideos(path.join(root, 'clips'), path.join(root, 'out'), { fps: 2, maxCropsPerClip: 8 });
    expect(result.crops.drone).toBeGreaterThanOrEqual(4);
  });
});
