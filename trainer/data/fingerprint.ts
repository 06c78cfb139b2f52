import { createHash } from 'node:crypto';
import path from 'node:path';
import { sha256File } from '../../core/hash.js';
import { mapLimit, scanDataset, type DataItem } from './scan.js';

/** Content hash of every item, in item order. */
export async function hashItems(root: string, items: DataItem[]): Promise<string[]> {
  return mapLimit(items, 8, (item) => sha256File(path.join(root, item.path)));
}

/**
 * The data set's identity: sha256 over the sorted (path, label, content hash) of every usable image.
 * Renaming, relabelling or changing one byte of one image changes it; the periodic trainer skips a run
 * when it has not changed.
 */
export async function datasetFingerprint(root: string, items?: DataItem[]): Promise<string> {
  const list = [...(items ?? (await scanDataset(root)).items)].sort((a, b) => (a.path < b.path ? -1 : 1));
  const hashes = await hashItems(root, list);
  const h = createHash('sha256');
  list.forEach((item, i) => h.update(`${item.path}\0${item.label}\0${hashes[i]}\n`));
  return h.digest('hex');
}

/** Hash of a list of files and labels (no contents): names the exact test split a metric was measured on. */
export function listFingerprint(files: Array<{ path: string; label: string }>): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) h.update(`${path.basename(path.dirname(f.path))}/${path.basename(f.path)}\0${f.label}\n`);
  return h.digest('hex');
}
