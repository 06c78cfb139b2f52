import { isSkywatchError } from '../core/errors.js';
import type { ModelRegistry } from '../core/model/registry.js';
import { parseDriftBaseline, type DriftBaseline } from './drift-baseline.js';

/** The file name of a model version's baseline in the registry (written at publish, beside model.onnx). */
export const DRIFT_BASELINE_FILE = 'drift-baseline.json';

/** The baseline of a version, or null when the version was published without one (older models). */
export async function loadDriftBaseline(registry: ModelRegistry, version: string): Promise<DriftBaseline | null> {
  const manifest = await registry.resolve(version);
  try {
    return parseDriftBaseline(await registry.store.read(`models/${manifest.version}/${DRIFT_BASELINE_FILE}`));
  } catch (err) {
    if (isSkywatchError(err, 'STORAGE_NOT_FOUND')) return null;
    throw err;
  }
}
