import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { SkywatchError } from '../../core/errors.js';

export interface DataItem {
  /** Relative to the data set root, '/'-separated. */
  path: string;
  label: string;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface ScannedDataset {
  root: string;
  labels: string[];
  items: DataItem[];
  skipped: SkippedFile[];
}

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp']);
const RESERVED = new Set(['splits']);

/**
 * One folder per label (label = folder name). Files that are not images, or that sharp cannot read,
 * are reported with their path and skipped: one bad file never aborts a run.
 */
export async function scanDataset(root: string, options: { checkReadable?: boolean; concurrency?: number } = {}): Promise<ScannedDataset> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new SkywatchError('DATA_INVALID', `cannot read data folder ${root}: ${(err as Error).message}`);
  }
  const labels = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && !RESERVED.has(e.name)).map((e) => e.name).sort();
  const candidates: DataItem[] = [];
  const skipped: SkippedFile[] = [];
  for (const label of labels) {
    for (const rel of await walk(path.join(root, label), label)) {
      if (IMAGE_EXTENSIONS.has(path.extname(rel).toLowerCase())) candidates.push({ path: rel, label });
      else skipped.push({ path: rel, reason: 'not an image file (extension)' });
    }
  }
  const items: DataItem[] = [];
  if (options.checkReadable === false) items.push(...candidates);
  else {
    const ok = await mapLimit(candidates, options.concurrency ?? 4, async (item) => {
      try {
        const meta = await sharp(path.join(root, item.path)).metadata();
        if (!meta.width || !meta.height) return 'image has no dimensions';
        return null;
      } catch (err) {
        return `unreadable image: ${(err as Error).message}`;
      }
    });
    candidates.forEach((item, i) => (ok[i] === null ? items.push(item) : skipped.push({ path: item.path, reason: ok[i]! })));
  }
  items.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { root, labels: labels.filter((l) => items.some((i) => i.label === l)), items, skipped };
}

async function walk(dir: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const child = `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walk(path.join(dir, entry.name), child)));
    else if (entry.isFile()) out.push(child);
  }
  return out;
}

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}
