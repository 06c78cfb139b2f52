import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SkywatchError } from '../../core/errors.js';
import { mirrorGrouping } from './mirror-groups.js';
import { scanDataset, type DataItem, type SkippedFile } from './scan.js';
import { seededRandom, shuffled } from './seeded-shuffle.js';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];
export type SplitSet = Record<SplitName, DataItem[]>;

export interface MakeSplitsOptions {
  seed: number;
  ratios?: [number, number, number];
  /** Items of one group (e.g. crops of one clip) always land in the same split. */
  groupOf?: (item: DataItem) => string;
}

/**
 * Seeded, stratified splits: per label, groups are shuffled with the seed and dealt out so each split
 * gets its share of that label's items. With no grouping every item is its own group.
 */
export function makeSplits(items: DataItem[], options: MakeSplitsOptions): SplitSet {
  const ratios = options.ratios ?? [0.7, 0.15, 0.15];
  const total = ratios.reduce((a, b) => a + b, 0);
  if (ratios.some((r) => r < 0) || !(total > 0)) throw new SkywatchError('BAD_REQUEST', `invalid split ratios: ${ratios.join(',')}`);
  const out: SplitSet = { train: [], val: [], test: [] };
  const labels = [...new Set(items.map((i) => i.label))].sort();
  for (const label of labels) {
    const groups = new Map<string, DataItem[]>();
    for (const item of items.filter((i) => i.label === label)) {
      const key = options.groupOf?.(item) ?? item.path;
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    const keys = shuffled([...groups.keys()].sort(), seededRandom(options.seed ^ hashString(label)));
    const count = [...groups.values()].reduce((n, g) => n + g.length, 0);
    const targets = [ratios[0] / total, (ratios[0] + ratios[1]) / total].map((r) => r * count);
    let seen = 0;
    for (const key of keys) {
      const group = groups.get(key)!;
      // A group goes where its midpoint falls, which keeps shares close even with uneven group sizes.
      const mid = seen + group.length / 2;
      const split: SplitName = mid <= targets[0] ? 'train' : mid <= targets[1] ? 'val' : 'test';
      out[split].push(...group);
      seen += group.length;
    }
  }
  for (const name of SPLIT_NAMES) out[name].sort((a, b) => (a.path < b.path ? -1 : 1));
  return out;
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const splitFile = (dir: string, name: SplitName) => path.join(dir, 'splits', `${name}_files.txt`);

export async function writeSplits(dir: string, splits: SplitSet): Promise<void> {
  await mkdir(path.join(dir, 'splits'), { recursive: true });
  for (const name of SPLIT_NAMES) await writeFile(splitFile(dir, name), splits[name].map((i) => i.path).join('\n') + '\n');
}

export function hasSplits(dir: string): boolean {
  return SPLIT_NAMES.every((name) => existsSync(splitFile(dir, name)));
}

/** Reads the splits files; listed files that are missing or unreadable are reported, not fatal. */
export async function readSplits(dir: string, known?: DataItem[]): Promise<{ splits: SplitSet; missing: SkippedFile[] }> {
  const items = known ?? (await scanDataset(dir)).items;
  const byPath = new Map(items.map((i) => [i.path, i]));
  const splits: SplitSet = { train: [], val: [], test: [] };
  const missing: SkippedFile[] = [];
  const listedIn = new Map<string, SplitName>();
  for (const name of SPLIT_NAMES) {
    const lines = (await readFile(splitFile(dir, name), 'utf8')).split(/\r?\n/).map((l) => l.trim().replace(/\\/g, '/')).filter(Boolean);
    for (const line of lines) {
      const item = byPath.get(line);
      const earlier = listedIn.get(line);
      // A file listed twice would be trained on and tested on: the first listing wins.
      if (earlier) missing.push({ path: line, reason: `listed in ${name}_files.txt and already in ${earlier}_files.txt: kept in ${earlier} only` });
      else if (item) {
        splits[name].push(item);
        listedIn.set(line, name);
      } else missing.push({ path: line, reason: `listed in ${name}_files.txt but missing or unreadable` });
    }
  }
  return { splits, missing };
}

export interface LoadedSplits extends SplitSet {
  generated: boolean;
  skipped: SkippedFile[];
  labels: string[];
}

/** The splits files when present, else seeded splits made on the fly (`generated: true`). */
export async function loadSplits(dir: string, options: { seed: number; groupOf?: (item: DataItem) => string }): Promise<LoadedSplits> {
  const scanned = await scanDataset(dir);
  if (scanned.items.length === 0) throw new SkywatchError('DATA_EMPTY', `no readable images in ${dir} (expected one folder per label)`);
  if (hasSplits(dir)) {
    const { splits, missing } = await readSplits(dir, scanned.items);
    return { ...splits, generated: false, skipped: [...scanned.skipped, ...missing], labels: scanned.labels };
  }
  const groupOf = options.groupOf ?? (await splitGrouping(dir, scanned.items));
  const splits = makeSplits(scanned.items, { seed: options.seed, groupOf });
  return { ...splits, generated: true, skipped: scanned.skipped, labels: scanned.labels };
}

/**
 * What a folder's splits keep together: the crops of one clip when `data from-videos` made it (its
 * sources.json), else a photograph and its flipped copy (found from pixels), so the test split scores
 * photographs the model never saw in any orientation.
 */
export async function splitGrouping(dir: string, items: readonly DataItem[]): Promise<(item: DataItem) => string> {
  return (await clipGrouping(dir)) ?? (await mirrorGrouping(dir, items)).groupOf;
}

/** Data sets made by `data from-videos` carry sources.json: crops of one clip stay together. */
export async function clipGrouping(dir: string): Promise<((item: DataItem) => string) | undefined> {
  const file = path.join(dir, 'sources.json');
  if (!existsSync(file)) return undefined;
  const sources = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  return (item) => sources[item.path] ?? item.path;
}
