import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { SkywatchError } from '../../core/errors.js';

export const VIDEO_EXTENSIONS = new Set(['.mp4', '.mkv', '.avi', '.mov', '.webm', '.ts', '.m4v']);

/** The clips of a folder with one subfolder per label, in name order; no clip at all is an error. */
export async function listLabelledClips(clipsDir: string): Promise<Array<{ label: string; file: string }>> {
  let labels: string[];
  try {
    labels = (await readdir(clipsDir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch (err) {
    throw new SkywatchError('DATA_INVALID', `cannot read clips folder ${clipsDir}: ${(err as Error).message}`);
  }
  const clips: Array<{ label: string; file: string }> = [];
  for (const label of labels) {
    for (const f of (await readdir(path.join(clipsDir, label))).sort()) {
      if (VIDEO_EXTENSIONS.has(path.extname(f).toLowerCase())) clips.push({ label, file: f });
    }
  }
  if (clips.length === 0) throw new SkywatchError('DATA_EMPTY', `no video clips in ${clipsDir} (expected one folder per label)`);
  return clips;
}
