import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Folder names that mean "a split of the data set", not "a label". */
const SPLIT_FOLDERS = new Set(['train', 'training', 'val', 'valid', 'validation', 'test', 'testing']);

/** Whether a split folder is the one a model trains from (`train/`, `training/`). */
export function isTrainSplit(name: string): boolean {
  return /^(train|training)$/i.test(name);
}

function subfolders(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => !f.startsWith('.') && statSync(path.join(dir, f)).isDirectory());
  } catch {
    return [];
  }
}

/**
 * The folder to train from. A data set laid out as split folders (`train/<label>/`, `valid/<label>/`)
 * would otherwise be read as the labels "train" and "valid": when every subfolder is a split name and
 * one is `train`, training reads `train/` (its own train/val/test splits are made there, as `start`
 * does), and the caller is told which split folders were set aside. Anything else is used as given.
 */
export function trainingDataFolder(data: string): { folder: string; setAside: string[] } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(data) || !existsSync(data)) return { folder: data, setAside: [] };
  const subs = subfolders(data);
  const splits = subs.filter((s) => SPLIT_FOLDERS.has(s.toLowerCase()));
  const train = subs.find(isTrainSplit);
  if (!train || splits.length !== subs.length || subfolders(path.join(data, train)).length === 0) return { folder: data, setAside: [] };
  return { folder: path.join(data, train), setAside: splits.filter((s) => s !== train) };
}

/**
 * The split folders of a data set laid out as `train/<label>/`, `valid/<label>/` ... (every subfolder a
 * split name, each holding label folders), sorted; null for any other layout.
 */
export function splitFolders(data: string): string[] | null {
  const subs = subfolders(data);
  if (subs.length === 0 || !subs.every((s) => SPLIT_FOLDERS.has(s.toLowerCase()))) return null;
  const splits = subs.filter((s) => subfolders(path.join(data, s)).length > 0).sort();
  return splits.length ? splits : null;
}
