import { datasetFingerprint } from './data/fingerprint.js';
import { loadSplits } from './data/splits.js';
import type { SkippedFile } from './data/scan.js';

/** One image of a split, by absolute path. */
export interface SplitFile {
  path: string;
  label: string;
}

/** The splits a training run works on: absolute paths, the model's label order, the data's fingerprint. */
export interface Splits {
  /** Label names in model output order. */
  labels: string[];
  train: SplitFile[];
  val: SplitFile[];
  test: SplitFile[];
  /** True when the data set had no splits file and these were drawn from the seed. */
  generated: boolean;
  /** Hash of the data set's file list and contents. */
  fingerprint: string;
}

/**
 * A data set folder's splits as training needs them: loadSplits gives paths relative to the folder,
 * training reads files from anywhere (a benchmark's own test folder), so they are made absolute here,
 * and the fingerprint of every listed file is taken once for the manifest and the run record.
 */
export async function loadTrainingSplits(dir: string, seed: number): Promise<Splits & { skipped: SkippedFile[] }> {
  const loaded = await loadSplits(dir, { seed });
  const absolute = (items: SplitFile[]): SplitFile[] => items.map((i) => ({ path: `${dir.replace(/\/+$/, '')}/${i.path}`, label: i.label }));
  return {
    labels: loaded.labels,
    train: absolute(loaded.train),
    val: absolute(loaded.val),
    test: absolute(loaded.test),
    generated: loaded.generated,
    fingerprint: await datasetFingerprint(dir, [...loaded.train, ...loaded.val, ...loaded.test]),
    skipped: loaded.skipped,
  };
}
