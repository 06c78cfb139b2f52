import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../../core/config.js';
import { isSkywatchError } from '../../core/errors.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { openStore } from '../../core/storage/open-store.js';
import type { CheckResult } from './check-result.js';

/**
 * The registry opens, has a latest.json, and the model it points at matches its manifest's sha256 and
 * latest.json's (downloaded to a scratch folder, so a bad model never lands in the serving cache).
 */
export async function checkRegistry(config: Config): Promise<CheckResult> {
  const name = 'registry';
  let registry: ModelRegistry;
  try {
    registry = new ModelRegistry(await openStore(config.registry, { gcsApiEndpoint: config.gcs.apiEndpoint, gcsProjectId: config.gcs.projectId }));
  } catch (err) {
    return { name, level: 'fail', detail: `${config.registry} cannot be opened: ${(err as Error).message}`, fix: 'set SKYWATCH_REGISTRY to a folder or gs://bucket/prefix (and GOOGLE_APPLICATION_CREDENTIALS for GCS)' };
  }
  const scratch = await mkdtemp(path.join(tmpdir(), 'skywatch-doctor-'));
  try {
    const latest = await registry.latest();
    if (!latest) return { name, level: 'warn', detail: `${config.registry} has no latest.json (no model yet)`, fix: 'skywatch train --publish (skywatch start trains one on SKYWATCH_DATA)' };
    const { manifest } = await registry.fetch(latest.version, scratch);
    if (manifest.sha256 !== latest.sha256) {
      return { name, level: 'fail', detail: `latest.json names ${latest.version} with sha256 ${latest.sha256}, its manifest says ${manifest.sha256}`, fix: 'skywatch model promote <a good version>' };
    }
    const accuracy = manifest.metrics?.accuracy;
    return { name, level: 'ok', detail: `latest ${latest.version} (${manifest.labels.join('/')}, test accuracy ${accuracy === undefined ? 'n/a' : accuracy.toFixed(4)}), sha256 matches` };
  } catch (err) {
    if (isSkywatchError(err) && err.code === 'MODEL_CHECKSUM') return { name, level: 'fail', detail: err.message, fix: 'skywatch model rollback (or publish the model again)' };
    return { name, level: 'fail', detail: `${config.registry}: ${(err as Error).message}`, fix: 'check SKYWATCH_REGISTRY and its credentials; skywatch model list shows what is there' };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
