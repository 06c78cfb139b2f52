import path from 'node:path';
import { openStore } from '../../core/storage/open-store.js';
import { RunStore } from './run-store.js';
import type { Config } from '../../core/config.js';

/**
 * Where runs are recorded: the registry's own store (folder or gs://) when there is one, so models and
 * the runs that made them live together; otherwise `<stateDir>/tracking`.
 */
export async function openRunStore(registry: string | undefined, stateDir: string, gcs: Config['gcs'] = {}): Promise<RunStore> {
  const url = registry ?? path.join(path.resolve(stateDir), 'tracking');
  return new RunStore(await openStore(url, { gcsApiEndpoint: gcs.apiEndpoint, gcsProjectId: gcs.projectId }));
}
