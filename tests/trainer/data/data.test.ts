import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetFingerprint } from '../../../trainer/data/fingerprint.js';
import { materializeDataset } from '../../../trainer/data/materialize.js';
import { scanDataset } from '../../../trainer/data/scan.js';
import { loadSplits, makeSplits, writeSplits } from '../../../trainer/data/splits.js';
import { datasetStats } from '../../../trainer/data/stats.js';
import { makeImageDataset } from '../../support/image-dataset.js';

let root: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'sw-data-'));
  await makeImageDataset(root, 20, 32);
  writeFileSync(path.join(root, 'drone', 'notes.txt'), 'not an image');
  writeFileSync(path.join(root, 'bird', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
  copyFileSync(path.join(root, 'bird', 'bird-0.jpg'), path.join(root, 'bird', 'bird-copy.jpg'));
});

describe('data sets', () => {
  it('scans labels from folders and reports unreadable and non-image files without aborting', async () => {
    const scanned = await scanDataset(root);
    expect(scanned.labels).toEqual(['bird', 'drone']);
    expect(scanned.items).toHaveLength(41);
    expect(scanned.skipped.map((s) => s.path).sort()).toEqual(['bird/broken.jpg', 'drone/notes.txt']);
    expect(scanned.skipped.find((s) => s.path === 'bird/broken.jpg')?.reason).toMatch(/unreadable/);
  });

  it('makes seeded, stratified, reproducible splits that keep groups together', async () => {
    const { items } = await scanDataset(root);
    const a = makeSplits(items, { seed: 7 });
    const b = makeSplits(items, { seed: 7 });
    const c = makeSplits(items, { seed: 8 });
    expect(a).toEqual(b);
    expect(a.test.map((i) => i.path)).not.toEqual(c.test.map((i) => i.path));
    expect(a.train.length + a.val.length + a.test.length).toBe(items.length);
    for (const label of ['bird', 'drone']) {
      const n = items.filter((i) => i.label === label).length;
      const train = a.train.filter((i) => i.label === label).length;
      expect(Math.abs(train - 0.7 * n)).toBeLessThanOrEqual(1);
      expect(a.test.filter((i) => i.label === label).length).toBeGreaterThanOrEqual(2);
    }
    const grouped = makeSplits(items, { seed: 3, groupOf: (i) => i.path.replace(/-\d+\.jpg$/, '').concat(String(Number(/-(\d+)/.exec(i.path)?.[1] ?? 0) % 5)) });
    const where = new Map<string, string>();
    for (const [split, list] of Object.entries(grouped)) for (const i of list) {
      const g = i.path.replace(/-\d+\.jpg$/, '') + (Number(/-(\d+)/.exec(i.path)?.[1] ?? 0) % 5);
      expect(where.get(g) ?? split).toBe(split);
      where.set(g, split);
    }
  });

  it('generates splits on the fly when there are no splits files, and reads them back when written', async () => {
    const loaded = await loadSplits(root, { seed: 1 });
    expect(loaded.generated).toBe(true);
    await writeSplits(root, loaded);
    expect(readFileSync(path.join(root, 'splits', 'train_files.txt'), 'utf8').split('\n').filter(Boolean)).toHaveLength(loaded.train.length);
    const again = await loadSplits(root, { seed: 99 });
    expect(again.generated).toBe(false);
    expect(again.test.map((i) => i.path)).toEqual(loaded.test.map((i) => i.path));
    // A listed file that is gone, and one listed in two splits, are reported; neither aborts the load.
    const trainFile = path.join(root, 'splits', 'train_files.txt');
    const original = readFileSync(trainFile, 'utf8');
    writeFileSync(trainFile, `${original}bird/gone.jpg\n${loaded.test[0].path}\n`);
    const edited = await loadSplits(root, { seed: 99 });
    // Train is read first, so the doubly listed test file stays in train and leaves the test split.
    expect(edited.train).toHaveLength(loaded.train.length + 1);
    expect(edited.test.map((i) => i.path)).toEqual(loaded.test.slice(1).map((i) => i.path));
    expect(edited.skipped.filter((s) => !['bird/broken.jpg', 'drone/notes.txt'].includes(s.path))).toEqual([
      { path: 'bird/gone.jpg', reason: 'listed in train_files.txt but missing or unreadable' },
      { path: loaded.test[0].path, reason: 'listed in test_files.txt and already in train_files.txt: kept in train only' },
    ]);
    writeFileSync(trainFile, original);
  });

  it('fingerprints contents: one changed byte changes it', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'sw-data-fp-'));
    await makeImageDataset(copy, 4, 24);
    const before = await datasetFingerprint(copy);
    expect(await datasetFingerprint(copy)).toBe(before);
    const file = path.join(copy, 'drone', 'drone-1.jpg');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] ^= 1;
    writeFileSync(file, bytes);
    expect(await datasetFingerprint(copy)).not.toBe(before);
  });

  it('reports counts, sizes, duplicates across splits and the fingerprint', async () => {
    const stats = await datasetStats(root);
    expect(stats.counts).toEqual({ bird: 21, drone: 20 });
    expect(stats.sizes.mostCommon).toBe('32x32');
    expect(stats.sizes.histogram).toEqual([{ size: '32x32', count: 41 }]);
    expect(stats.duplicates).toHaveLength(1);
    expect(stats.duplicates[0].paths.sort()).toEqual(['bird/bird-0.jpg', 'bird/bird-copy.jpg']);
    expect(stats.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(stats.splitCounts?.train.bird).toBeGreaterThan(10);
  });

  it('describes an empty data set with zeros, not Infinity or null', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'sw-data-empty-'));
    writeFileSync(path.join(empty, 'readme.md'), 'top-level files are not labelled');
    const stats = await datasetStats(empty);
    expect(stats.total).toBe(0);
    expect(stats.sizes).toEqual({ minWidth: 0, maxWidth: 0, minHeight: 0, maxHeight: 0, mostCommon: 'none', distinct: 0, histogram: [] });
  });

  it('uses a local folder as it is and refuses a missing one', async () => {
    expect(await materializeDataset(root, tmpdir())).toBe(root);
    await expect(materializeDataset('/no/such/folder', tmpdir())).rejects.toMatchObject({ code: 'DATA_INVALID' });
  });
});
