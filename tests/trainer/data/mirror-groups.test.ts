import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../trainer/data/seeded-shuffle.js';
import { groupMirrored, hammingDistance, MIRROR_MAX_DISTANCE, mirrorGrouping, mirrorHash } from '../../../trainer/data/mirror-groups.js';
import { scanDataset, type DataItem } from '../../../trainer/data/scan.js';
import { loadSplits, makeSplits, type SplitSet } from '../../../trainer/data/splits.js';

const SHARED = path.resolve('../shared/data/images');

/** Split of every item, and the check that every group sits in one split. */
function expectGroupsWhole(splits: SplitSet, groupOf: (item: DataItem) => string): void {
  const where = new Map<string, string>();
  for (const [name, list] of Object.entries(splits)) {
    for (const item of list) {
      const g = groupOf(item);
      expect(where.get(g) ?? name, `${item.path} (group ${g})`).toBe(name);
      where.set(g, name);
    }
  }
}

/**
 * `n` distinct generated photos per label (a seeded grid of dark and light cells, so no thumbnail pixel
 * sits near the mean), each with a flipped copy re-encoded at another JPEG quality.
 */
async function makeFlippedSet(root: string, n: number): Promise<void> {
  const random = seededRandom(5);
  for (const label of ['bird', 'drone']) {
    mkdirSync(path.join(root, label), { recursive: true });
    for (let i = 0; i < n; i++) {
      const cells: string[] = [];
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const v = random() < 0.5 ? Math.round(random() * 60) : 190 + Math.round(random() * 65);
          cells.push(`<rect x="${x * 12}" y="${y * 12}" width="12" height="12" fill="rgb(${v},${v},${Math.min(255, v + 20)})"/>`);
        }
      }
      const image = await sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96">${cells.join('')}</svg>`)).png().toBuffer();
      await sharp(image).jpeg({ quality: 92 }).toFile(path.join(root, label, `${label}-${i}.jpg`));
      // The copy's name says nothing about its original: pairs must be found from the pixels.
      await sharp(image).flop().jpeg({ quality: 75 }).toFile(path.join(root, label, `z-${label}-${(i * 7) % n}-${i}.jpg`));
    }
  }
}

describe('mirror groups', () => {
  let flipped: string;
  beforeAll(async () => {
    flipped = mkdtempSync(path.join(tmpdir(), 'sw-mirror-'));
    await makeFlippedSet(flipped, 24);
  });

  it('the hash of an image matches the mirrored hash of its flipped copy, not of another image', async () => {
    const a = await mirrorHash(path.join(flipped, 'drone', 'drone-3.jpg'));
    const copy = (await scanDataset(flipped)).items.find((i) => i.path.startsWith('drone/z-') && i.path.endsWith('-3.jpg'))!;
    const b = await mirrorHash(path.join(flipped, copy.path));
    const other = await mirrorHash(path.join(flipped, 'drone', 'drone-4.jpg'));
    expect(hammingDistance(a.hash, b.mirrored)).toBeLessThanOrEqual(MIRROR_MAX_DISTANCE);
    expect(hammingDistance(a.mirrored, b.hash)).toBeLessThanOrEqual(MIRROR_MAX_DISTANCE);
    expect(hammingDistance(a.hash, other.mirrored)).toBeGreaterThan(MIRROR_MAX_DISTANCE);
  });

  it('groups each generated photo with its flipped copy only, and splits never separate them', async () => {
    const { items } = await scanDataset(flipped);
    const grouping = await mirrorGrouping(flipped, items);
    expect(grouping.groups).toBe(48);
    expect(grouping.paired).toBe(96);
    for (const label of ['bird', 'drone']) {
      for (let i = 0; i < 24; i++) {
        const copy = items.find((it) => it.path.startsWith(`${label}/z-`) && it.path.endsWith(`-${i}.jpg`))!;
        expect(grouping.groupOf(copy), copy.path).toBe(grouping.groupOf({ path: `${label}/${label}-${i}.jpg`, label }));
      }
    }
    for (const seed of [1, 2, 3]) expectGroupsWhole(makeSplits(items, { seed, groupOf: grouping.groupOf }), grouping.groupOf);
    // Splits made on the fly (training, `skywatch eval --split test`) keep them together too.
    const loaded = await loadSplits(flipped, { seed: 1 });
    expectGroupsWhole({ train: loaded.train, val: loaded.val, test: loaded.test }, grouping.groupOf);
    expect(loaded.test.length).toBeGreaterThan(0);
  });

  it('joins chains (an image, its copy, a copy of the copy) and leaves unmatched hashes alone', () => {
    const h = (bits: number[]) => Uint32Array.from({ length: 8 }, (_v, w) => bits[w] ?? 0);
    const hashes = [
      { hash: h([1]), mirrored: h([2]) },
      { hash: h([2]), mirrored: h([1]) },
      { hash: h([3]), mirrored: h([1]) },
      { hash: h([0xffff, 0xffff]), mirrored: h([0xffff0000, 0xffff0000]) },
    ];
    const groups = groupMirrored(hashes);
    expect(groups[0]).toBe(groups[1]);
    expect(groups[2]).toBe(groups[1]);
    expect(groups[3]).not.toBe(groups[0]);
  });

  it.skipIf(!existsSync(path.join(SHARED, 'valid', 'drone')))('real photographs: flipped copies of unseen photos are found, distinct photos stay apart (skipped without ../shared/data/images)', async () => {
    const valid = path.join(SHARED, 'valid', 'drone');
    // images/valid holds no copies: 30 of its photos plus a flipped, re-encoded copy of each.
    const root = mkdtempSync(path.join(tmpdir(), 'sw-mirror-real-'));
    mkdirSync(path.join(root, 'drone'));
    const photos = readdirSync(valid).filter((f) => f.endsWith('.jpg')).sort().slice(0, 30);
    for (const [i, f] of photos.entries()) {
      await sharp(path.join(valid, f)).toFile(path.join(root, 'drone', `a-${i}.jpg`));
      await sharp(path.join(valid, f)).flop().jpeg({ quality: 85 }).toFile(path.join(root, 'drone', `b-${(i * 11) % 30}-${i}.jpg`));
    }
    const { items } = await scanDataset(root);
    const grouping = await mirrorGrouping(root, items);
    // Every copy joins its original; distinct photos stay apart, but for the odd pair of shots of one
    // scene a moment apart (valid holds a few, 3 bits from each other's mirror), which may join.
    expect(grouping.groups).toBeLessThanOrEqual(30);
    expect(grouping.groups).toBeGreaterThanOrEqual(27);
    for (let i = 0; i < 30; i++) expect(grouping.groupOf(items.find((it) => it.path.endsWith(`-${i}.jpg`) && it.path.startsWith('drone/b-'))!)).toBe(grouping.groupOf({ path: `drone/a-${i}.jpg`, label: 'drone' }));
  });

  it.skipIf(!existsSync(path.join(SHARED, 'train', 'drone')))('real photographs: the shared train folder (each photo exported twice) falls into about its distinct photos (skipped without ../shared/data/images)', async () => {
    const train = path.join(SHARED, 'train');
    const { items } = await scanDataset(train);
    const grouping = await mirrorGrouping(train, items);
    const sizes = new Map<string, number>();
    for (const item of items) sizes.set(grouping.groupOf(item), (sizes.get(grouping.groupOf(item)) ?? 0) + 1);
    // About 800 bird and 730 drone photographs (data README); a group is a photo and its copy, now and
    // then with another shot of the same scene.
    expect(grouping.groups).toBeGreaterThan(1400);
    expect(grouping.groups).toBeLessThan(1650);
    expect([...sizes.values()].filter((n) => n === 2).length).toBeGreaterThan(1000);
    expect(Math.max(...sizes.values())).toBeLessThanOrEqual(8);
    expectGroupsWhole(makeSplits(items, { seed: 1, groupOf: grouping.groupOf }), grouping.groupOf);
  }, 300_000);
});
