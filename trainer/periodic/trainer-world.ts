import path from 'node:path';
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { ModelRegistry } from '../../core/model/registry.js';
import { datasetFingerprint } from '../data/fingerprint.js';
import { materializeDataset } from '../data/materialize.js';
import { createProgress } from '../fit/progress.js';
import { FeedbackStore } from '../../review/feedback-store.js';
import { combineFingerprints, runTraining, type TrainMode } from '../train.js';
import type { PeriodicTrainerDeps, TrainerRunRecord } from './periodic-trainer.js';

export const RUNS_PREFIX = 'trainer-runs/';

export interface WorldOptions {
  config: Config;
  registry: ModelRegistry;
  registryUrl: string;
  data: string;
  mode: TrainMode;
  logger: Logger;
}

/** The periodic trainer's real dependencies: the data set from storage, runTraining, the registry. */
export function trainerWorld(options: WorldOptions): PeriodicTrainerDeps {
  const { config, registry, logger } = options;
  const cacheDir = path.join(config.stateDir, 'cache');
  const gcs = { gcsApiEndpoint: config.gcs.apiEndpoint, gcsProjectId: config.gcs.projectId };
  let localData: string | null = null;
  // Operators' judged alerts, kept in the registry's store: extra training examples when present.
  const feedbackStore = new FeedbackStore(registry.store);
  let feedback: { files: Array<{ path: string; label: string }>; fingerprint: string } | null = null;
  return {
    logger,
    async dataFingerprint() {
      localData = await materializeDataset(options.data, cacheDir, gcs);
      const fb = await feedbackStore.materialize(path.join(cacheDir, 'feedback'));
      feedback = fb.fingerprint ? { files: fb.items, fingerprint: fb.fingerprint } : null;
      return combineFingerprints(await datasetFingerprint(localData), feedback?.fingerprint ?? null);
    },
    async knownFingerprints() {
      const known: string[] = [];
      const latest = await registry.latest();
      if (latest) {
        const manifest = await registry.resolve(latest.version).catch(() => null);
        if (manifest?.dataset?.fingerprint) known.push(manifest.dataset.fingerprint);
      }
      const runs = (await registry.store.list(RUNS_PREFIX)).map((o) => o.key).sort();
      const last = runs[runs.length - 1];
      if (last) {
        const run = JSON.parse((await registry.store.read(last)).toString()) as TrainerRunRecord;
        if (run.dataFingerprint && (run.decision === 'promoted' || run.decision === 'candidate')) known.push(run.dataFingerprint);
      }
      return known;
    },
    async train(signal) {
      const result = await runTraining({
        data: localData ?? options.data,
        registry: options.registryUrl,
        stateDir: config.stateDir,
        mode: options.mode,
        backbone: config.trainer.backbone,
        publish: true,
        gcs: config.gcs,
        logger,
        signal,
        progress: createProgress(process.stderr, { tty: false }),
        ...(feedback ? { extraTrain: feedback } : {}),
      });
      return { version: result.version, promoted: result.decision?.promoted ?? false, reason: result.decision?.reason ?? 'not published', accuracy: result.metrics.accuracy };
    },
    async record(run) {
      await registry.store.write(`${RUNS_PREFIX}${run.startedAt.replace(/[:.]/g, '-')}.json`, JSON.stringify(run, null, 2), { contentType: 'application/json' });
    },
  };
}
