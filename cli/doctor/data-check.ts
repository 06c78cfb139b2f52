import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../core/config.js';
import type { CheckResult } from './check-result.js';

const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|bmp)$/i;
const MAX_DEPTH = 3;

/** Images per folder name, up to MAX_DEPTH levels down (label folders, possibly under train/ valid/). */
async function imagesByFolder(dir: string, depth: number, counts: Map<string, number>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.isDirectory() && depth < MAX_DEPTH) await imagesByFolder(path.join(dir, e.name), depth + 1, counts);
    else if (e.isFile() && IMAGE.test(e.name) && depth > 0) counts.set(path.basename(dir), (counts.get(path.basename(dir)) ?? 0) + 1);
  }
}

/** The training data folder exists and holds images in at least two label folders. */
export async function checkData(config: Config): Promise<CheckResult> {
  const root = config.data;
  if (root.startsWith('gs://')) return { name: 'data', level: 'ok', detail: `${root} (in GCS: read by the trainer, not listed here)` };
  const counts = new Map<string, number>();
  try {
    await imagesByFolder(root, 0, counts);
  } catch (err) {
    return { name: 'data', level: 'warn', detail: `${root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; training needs it (serving does not)`, fix: 'set SKYWATCH_DATA to a folder with one subfolder of images per label' };
  }
  if (counts.size < 2) return { name: 'data', level: 'warn', detail: `${root} has images in ${counts.size} label folder(s); a classifier needs at least two`, fix: 'one subfolder of images per label (drone/, bird/), see skywatch data --help' };
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return { name: 'data', level: 'ok', detail: `${root}: ${total} images in ${[...counts.keys()].sort().join(', ')}` };
}
