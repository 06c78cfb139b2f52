import { readdir } from 'node:fs/promises';
import path from 'node:path';

const IMAGE = /\.(jpe?g|png|webp)$/i;

/** Every image under `dir` (any depth, label subfolders or not), sorted for a stable order. */
export async function listImages(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 4) return;
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(p, depth + 1);
      else if (entry.isFile() && IMAGE.test(entry.name)) out.push(p);
    }
  };
  await walk(dir, 0);
  return out.sort();
}
