import path from 'node:path';
import { scanDataset, type ScannedDataset } from './scan.js';
import { splitFolders } from './split-folders.js';

/**
 * Every labelled image of a data set, whichever of its split folders it is in (`train/drone/a.jpg` is a
 * drone): for training that evaluates elsewhere (the track model's crop and photo heads learn from
 * photographs and are judged on clips), so a held-out split would only be data left unused. A folder of
 * label folders is scanned as it is. Paths stay relative to `root`.
 */
export async function scanAllSplits(root: string): Promise<ScannedDataset & { splits: string[] }> {
  const splits = splitFolders(root);
  if (!splits) return { ...(await scanDataset(root)), splits: [] };
  const parts = await Promise.all(splits.map((s) => scanDataset(path.join(root, s))));
  const prefix = (s: string, p: string) => `${s}/${p}`;
  return {
    root,
    labels: [...new Set(parts.flatMap((p) => p.labels))].sort(),
    items: parts.flatMap((p, k) => p.items.map((i) => ({ ...i, path: prefix(splits[k], i.path) }))),
    skipped: parts.flatMap((p, k) => p.skipped.map((x) => ({ ...x, path: prefix(splits[k], x.path) }))),
    splits,
  };
}
