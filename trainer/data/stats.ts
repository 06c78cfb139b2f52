import path from 'node:path';
import sharp from 'sharp';
import { datasetFingerprint, hashItems } from './fingerprint.js';
import { mapLimit, scanDataset, type SkippedFile } from './scan.js';
import { hasSplits, readSplits, SPLIT_NAMES, type SplitName } from './splits.js';

export interface DatasetStats {
  root: string;
  labels: string[];
  total: number;
  counts: Record<string, number>;
  splitCounts: Record<SplitName, Record<string, number>> | null;
  /** Zeros and 'none' when there are no images. `histogram` is the most frequent sizes, most frequent first. */
  sizes: { minWidth: number; maxWidth: number; minHeight: number; maxHeight: number; mostCommon: string; distinct: number; histogram: Array<{ size: string; count: number }> };
  duplicates: Array<{ hash: string; paths: string[]; acrossSplits: boolean }>;
  skipped: SkippedFile[];
  fingerprint: string;
}

/** Counts, image sizes, exact duplicates (and whether they leak across splits) and the fingerprint. */
export async function datasetStats(root: string): Promise<DatasetStats> {
  const scanned = await scanDataset(root);
  const { items } = scanned;
  const counts: Record<string, number> = Object.fromEntries(scanned.labels.map((l) => [l, items.filter((i) => i.label === l).length]));
  let splitCounts: DatasetStats['splitCounts'] = null;
  const splitOf = new Map<string, SplitName>();
  const skipped = [...scanned.skipped];
  if (hasSplits(root)) {
    const { splits, missing } = await readSplits(root, items);
    skipped.push(...missing);
    splitCounts = { train: {}, val: {}, test: {} };
    for (const name of SPLIT_NAMES) {
      for (const item of splits[name]) {
        splitCounts[name][item.label] = (splitCounts[name][item.label] ?? 0) + 1;
        splitOf.set(item.path, name);
      }
    }
  }
  const dims = await mapLimit(items, 4, async (item) => {
    const meta = await sharp(path.join(root, item.path)).metadata();
    return [meta.width ?? 0, meta.height ?? 0] as const;
  });
  const sizeCount = new Map<string, number>();
  for (const [w, h] of dims) sizeCount.set(`${w}x${h}`, (sizeCount.get(`${w}x${h}`) ?? 0) + 1);
  const histogram = [...sizeCount.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([size, count]) => ({ size, count }));
  const hashes = await hashItems(root, items);
  const byHash = new Map<string, string[]>();
  hashes.forEach((h, i) => byHash.set(h, [...(byHash.get(h) ?? []), items[i].path]));
  const duplicates = [...byHash.entries()]
    .filter(([, paths]) => paths.length > 1)
    .map(([hash, paths]) => ({ hash, paths, acrossSplits: new Set(paths.map((p) => splitOf.get(p) ?? 'none')).size > 1 && splitOf.size > 0 }));
  return {
    root,
    labels: scanned.labels,
    total: items.length,
    counts,
    splitCounts,
    sizes: {
      minWidth: extreme(dims.map((d) => d[0]), Math.min),
      maxWidth: extreme(dims.map((d) => d[0]), Math.max),
      minHeight: extreme(dims.map((d) => d[1]), Math.min),
      maxHeight: extreme(dims.map((d) => d[1]), Math.max),
      mostCommon: histogram[0]?.size ?? 'none',
      distinct: sizeCount.size,
      histogram: histogram.slice(0, 10),
    },
    duplicates,
    skipped,
    fingerprint: await datasetFingerprint(root, items),
  };
}

/**
 * Min or max of a list that may be empty or huge: spreading into Math.min gives Infinity (JSON null)
 * when empty and overflows the stack on very large data sets.
 */
function extreme(values: number[], pick: (a: number, b: number) => number): number {
  return values.length ? values.reduce((a, b) => pick(a, b)) : 0;
}
