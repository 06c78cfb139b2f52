import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SkywatchError } from '../errors.js';
import { sha256File } from '../hash.js';
import type { BlobStore } from './blob-store.js';

export interface SyncProgress {
  done: number;
  total: number;
  key: string;
  action: 'upload' | 'unchanged' | 'delete';
}

export interface SyncResult {
  uploaded: number;
  unchanged: number;
  deleted: number;
  dryRun: boolean;
}

const INDEX = '.sync-index.json';

/**
 * Mirrors a folder into a store, as `gsutil rsync -r [-d]`: files whose size and content hash match
 * the last sync's index are left alone, new and changed ones uploaded, and with `delete` objects
 * absent locally removed. The index is written last, so an interrupted sync only re-uploads.
 */
export async function syncFolderToStore(localDir: string, store: BlobStore, options: { delete?: boolean; dryRun?: boolean; onProgress?: (p: SyncProgress) => void } = {}): Promise<SyncResult> {
  const files = await listFiles(localDir).catch((err: Error) => {
    throw new SkywatchError('DATA_INVALID', `cannot read ${localDir}: ${err.message}`);
  });
  let index: Record<string, string> = {};
  try {
    index = JSON.parse((await store.read(INDEX)).toString()) as Record<string, string>;
  } catch {}
  const remote = new Map((await store.list('')).map((o) => [o.key, o.size]));
  const result: SyncResult = { uploaded: 0, unchanged: 0, deleted: 0, dryRun: !!options.dryRun };
  const next: Record<string, string> = {};
  const toDelete = options.delete ? [...remote.keys()].filter((k) => k !== INDEX && !files.includes(k)) : [];
  const total = files.length + toDelete.length;
  let done = 0;
  for (const key of files) {
    const full = path.join(localDir, ...key.split('/'));
    const size = (await stat(full)).size;
    const tag = `${size}:${await sha256File(full)}`;
    next[key] = tag;
    const same = index[key] === tag && remote.get(key) === size;
    if (!same && !options.dryRun) await store.upload(full, key);
    if (same) result.unchanged++;
    else result.uploaded++;
    options.onProgress?.({ done: ++done, total, key, action: same ? 'unchanged' : 'upload' });
  }
  for (const key of toDelete) {
    if (!options.dryRun) await store.delete(key);
    result.deleted++;
    options.onProgress?.({ done: ++done, total, key, action: 'delete' });
  }
  if (!options.dryRun) await store.write(INDEX, JSON.stringify(next));
  return result;
}

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const key = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, key)));
    else if (entry.isFile()) out.push(key);
  }
  return out.sort();
}
