import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanAllSplits } from '../../../trainer/data/scan-all-splits.js';

let root: string;

async function image(file: string, shade: number): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: shade, g: shade, b: shade } } }).png().toBuffer());
}

describe('scanAllSplits', () => {
  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'sw-splits-'));
    await image(path.join(root, 'split', 'train', 'bird', 'a.png'), 10);
    await image(path.join(root, 'split', 'train', 'drone', 'b.png'), 20);
    await image(path.join(root, 'split', 'valid', 'drone', 'c.png'), 30);
    writeFileSync(path.join(root, 'split', 'valid', 'drone', 'notes.txt'), 'not an image');
    await image(path.join(root, 'flat', 'bird', 'd.png'), 40);
    await image(path.join(root, 'flat', 'drone', 'e.png'), 50);
    // A label folder beside a split name: not a split layout, every folder is a label.
    await image(path.join(root, 'mixed', 'train', 'f.png'), 60);
    await image(path.join(root, 'mixed', 'drone', 'g.png'), 70);
  });

  it('takes every split folder of a split data set, paths relative to its root, labels from the folders inside', async () => {
    const scanned = await scanAllSplits(path.join(root, 'split'));
    expect(scanned.splits).toEqual(['train', 'valid']);
    expect(scanned.labels).toEqual(['bird', 'drone']);
    expect(scanned.items).toEqual([
      { path: 'train/bird/a.png', label: 'bird' },
      { path: 'train/drone/b.png', label: 'drone' },
      { path: 'valid/drone/c.png', label: 'drone' },
    ]);
    expect(scanned.skipped.map((s) => s.path)).toEqual(['valid/drone/notes.txt']);
  });

  it('scans a folder of label folders as it is, and a mixed layout as labels', async () => {
    const flat = await scanAllSplits(path.join(root, 'flat'));
    expect(flat.splits).toEqual([]);
    expect(flat.items).toEqual([{ path: 'bird/d.png', label: 'bird' }, { path: 'drone/e.png', label: 'drone' }]);
    const mixed = await scanAllSplits(path.join(root, 'mixed'));
    expect(mixed.splits).toEqual([]);
    expect(mixed.labels).toEqual(['drone', 'train']);
  });
});
