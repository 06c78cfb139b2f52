import path from 'node:path';
import { SkywatchError } from '../../core/errors.js';
import { MicroBatcher } from '../../inference/micro-batcher.js';
import { ModelHolder } from '../../inference/model-holder.js';
import { Predictor } from '../../inference/predictor.js';
import type { CliContext } from '../context.js';
import { openRegistry } from './registry-option.js';

/** The serving parts in this process (model holder on the registry's latest, batcher, predictor), for clips. */
export async function openLocalServing(ctx: CliContext, registryFlag: string | undefined, model: string): Promise<{ holder: ModelHolder; predictor: Predictor; close: () => Promise<void> }> {
  if (model !== 'latest') throw new SkywatchError('BAD_REQUEST', 'clips run on the registry\'s latest model here (--model latest); to try another version, promote it in a copy of the registry or ask a server running it (--server)');
  const config = ctx.config();
  const holder = new ModelHolder({
    registry: await openRegistry(ctx, registryFlag),
    cacheDir: config.inference.cacheDir ?? path.join(config.stateDir, 'cache', 'models'),
    threads: { intraOpThreads: config.inference.intraOpThreads, interOpThreads: config.inference.interOpThreads, spin: config.inference.spinThreads },
    pollIntervalMs: 3_600_000,
    logger: ctx.logger('predict'),
  });
  const outcome = await holder.reload(true);
  if (!holder.current) throw new SkywatchError('NO_MODEL', `no model to run (${outcome}${holder.lastError ? `: ${holder.lastError}` : ''})`);
  const predictor = new Predictor(holder, new MicroBatcher({ maxBatch: config.inference.maxBatch, maxWaitMs: config.inference.maxWaitMs }), { maxPixels: config.api.maxPixels });
  return { holder, predictor, close: () => holder.stop() };
}
