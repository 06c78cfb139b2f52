import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SkywatchError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import { openStore, type OpenStoreOptions } from '../../core/storage/open-store.js';

/**
 * A data set as a local folder: a folder is used where it is; a gs:// data set is mirrored into
 * `cacheDir` (only objects whose size or generation changed are downloaded again).
 */
export async function materializeDataset(url: string, cacheDir: string, options: OpenStoreOptions = {}): Promise<string> {
  if (!url.startsWith('gs://')) {
    const dir = path.resolve(url.startsWith('file://') ? new URL(url).pathname : url);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SkywatchError('DATA_INVALID', `data folder not found: ${dir}`);
    return dir;
  }
  const store = await openStore(url, options);
  const local = await openStore(path.join(cacheDir, 'datasets', sha256(url).slice(0, 16)));
  const target = local.url;
  const remote = await store.list('');
  const index = new Map<string, string>();
  try {
    for (const [k, v] of Object.entries(JSON.parse((await local.read('.remote-index.json')).toString()) as Record<string, string>)) index.set(k, v);
  } catch {}
  for (const obj of remote) {
    const tag = `${obj.size}:${obj.generation}`;
    if (index.get(obj.key) === tag && (await local.stat(obj.key))) continue;
    await store.download(obj.key, path.join(target, ...obj.key.split('/')));
    index.set(obj.key, tag);
  }
  const wanted = new Set(remote.map((o) => o.key));
  for (const obj of await local.list('')) {
    if (!wanted.has(obj.key) && obj.key !== '.remote-index.json') await local.delete(obj.key);
  }
  await local.write('.remote-index.json', JSON.stringify(Object.fromEntries([...index].filter(([k]) => wanted.has(k)))));
  return target;
}
