import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { contextBox } from '../../../core/image/crop-pixels.js';
import { buildTracksFromVideos } from '../../../trainer/data/tracks-from-videos.js';
import { TRACKS_FILE, type ClipTracksFile } from '../../../trainer/track/track-set.js';
import { makeClip } from '../../support/clips.js';

describe('tracks from videos, as a camera with a small main stream', () => {
  it('tracks on the scaled clip and cuts small objects from the full-size clip frame for frame when asked', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-tracks-sub-'));
    makeClip(path.join(root, 'clips', 'drone', 'crossing.mp4'), { moving: true, seconds: 3, width: 640, height: 480 });
    const sizes: Record<string, Array<{ side: number; crop: [number, number]; centre: number }>> = {};
    for (const cropStream of [false, true]) {
      const out = path.join(root, cropStream ? 'with-crop-stream' : 'sub-only');
      const built = await buildTracksFromVideos(path.join(root, 'clips'), out, { decodeWidth: 320, cropStream, motion: { minArea: 8 } });
      expect(built.skipped).toEqual([]);
      const file = JSON.parse(readFileSync(path.join(out, 'drone', 'crossing', TRACKS_FILE), 'utf8')) as ClipTracksFile;
      expect([file.width, file.height]).toEqual([320, 240]);
      // The square's track (the background learns its first position late: a short second track).
      const points = file.tracks.reduce((a, b) => (b.points.length > a.points.length ? b : a)).points;
      expect(points.length).toBeGreaterThan(5);
      sizes[String(cropStream)] = await Promise.all(points.map(async (p) => {
        const side = contextBox(p.box, file.width, file.height).width;
        const { data, info } = await sharp(path.join(out, 'drone', 'crossing', p.crop)).raw().toBuffer({ resolveWithObject: true });
        return { side, crop: [info.width, info.height] as [number, number], centre: data[((info.height >> 1) * info.width + (info.width >> 1)) * 3] };
      }));
    }
    // Without a crop stream a crop is the box in the small frame; with one, the same box at twice the size.
    for (const s of sizes.false) expect(s.crop).toEqual([s.side, s.side]);
    for (const s of sizes.true) expect(s.crop).toEqual([2 * s.side, 2 * s.side]);
    // The square is in the middle of its crops either way (the full-size frame is the same moment),
    // but for the first two, whose boxes still hold the square and the place it left.
    for (const key of ['false', 'true']) expect(sizes[key].filter((s) => s.centre < 90).length).toBeGreaterThanOrEqual(sizes[key].length - 2);
  }, 60_000);
});
